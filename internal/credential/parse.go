package credential

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authsvc/authsvc/internal/claims"
	"github.com/authsvc/authsvc/internal/oauth"
)

// Parse builds a Set from a credentials file: YAML, or JSON, which is valid
// YAML. It is strict: unknown or repeated fields, values of the wrong type,
// YAML aliases, more than one document, empty, over-long or duplicate
// usernames and client ids, unparseable or out-of-limit hashes, a sha256
// hash on a user, unknown or repeated grant types, invalid or repeated
// scopes, and a file with neither users nor clients are errors. The error
// lists every problem (errors.Join), each naming the entry by list index,
// name and line, and never contains a hash.
//
// The warnings name entries whose hash is weaker than recommended (see the
// package documentation for the rule) and other likely mistakes that do not
// stop the service.
//
// Parse computes the dummy hashes that authentication verifies for unknown
// names, so it takes as long as one or two real hash computations.
func Parse(data []byte, opts ...Option) (*Set, []string, error) {
	var p parser
	users, clients := p.file(data)
	if len(p.errs) == 0 && len(users) == 0 && len(clients) == 0 {
		p.errs = append(p.errs, errors.New("no users and no clients defined"))
	}
	s := &Set{users: map[string]userEntry{}, clients: map[string]clientEntry{}, gate: newOptions(opts).gate}
	scopes := map[string]bool{}
	userHashes := p.users(s, users, scopes)
	clientHashes := p.clients(s, clients, scopes)
	if len(p.errs) > 0 {
		return nil, nil, errors.Join(p.errs...)
	}

	for sc := range scopes {
		s.scopes = append(s.scopes, sc)
	}
	slices.Sort(s.scopes)

	userParams, ok := typical(userHashes)
	if !ok {
		userParams = hashParams{
			kind: kindArgon2id, memory: argonMemory, time: argonTime, threads: argonThreads,
			saltLen: argonSaltLen, keyLen: argonKeyLen,
		}
	}
	if n := countSettings(userHashes); n > 1 {
		p.warnf("users' password hashes use %d different algorithms or settings; an unknown username is verified "+
			"against the most common (%v), so logins of users with other settings take measurably different time "+
			"and reveal that those users exist: rehash them alike", n, userParams)
	}
	clientParams, ok := typical(clientHashes)
	if !ok {
		clientParams = hashParams{kind: kindSHA256, saltLen: fastSaltLen, keyLen: 32}
	}

	var err error
	if s.userDummy, s.userDummyEncoded, err = dummyHash(userParams); err != nil {
		return nil, nil, err
	}
	if s.clientDummy, s.clientDummyEncoded, err = dummyHash(clientParams); err != nil {
		return nil, nil, err
	}
	return s, p.warns, nil
}

// typical returns the settings most of hashes share; of equally common
// settings, the one met first.
func typical(hashes []*parsedHash) (hashParams, bool) {
	counts := map[hashParams]int{}
	for _, h := range hashes {
		counts[h.hashParams]++
	}
	var best hashParams
	n := 0
	for _, h := range hashes {
		if c := counts[h.hashParams]; c > n {
			best, n = h.hashParams, c
		}
	}
	return best, n > 0
}

func countSettings(hashes []*parsedHash) int {
	seen := map[hashParams]bool{}
	for _, h := range hashes {
		seen[h.hashParams] = true
	}
	return len(seen)
}

// parser collects the problems of one file.
type parser struct {
	errs  []error
	warns []string
}

func (p *parser) errorf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) warnf(format string, args ...any) {
	p.warns = append(p.warns, fmt.Sprintf(format, args...))
}

// rawUser and rawClient are entries as read from the file, with the
// problems found while reading them.
type rawUser struct {
	index, line int
	notMapping  bool
	username    string
	hash        string
	scopes      []string
	claims      *yaml.Node
	issues      []string
}

type rawClient struct {
	index, line int
	notMapping  bool
	clientID    string
	hash        string
	grantTypes  []string
	scopes      []string
	introspect  bool
	public      bool
	audience    []string
	accessTTL   string
	refreshTTL  string
	claims      *yaml.Node
	admin       bool
	dpopBound   bool
	issues      []string
}

// file reads the YAML structure of the file.
func (p *parser) file(data []byte) ([]rawUser, []rawClient) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty: reported as "no users and no clients"
		}
		p.errorf("invalid YAML: %s", yamlProblem(err))
		return nil, nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.errorf("the file must hold one YAML document")
		return nil, nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	var issues []string
	var users []rawUser
	var clients []rawClient
	fields(root, "the file", &issues, func(key string, v *yaml.Node) bool {
		switch key {
		case "users":
			for i, n := range sequence(v, "users", &issues) {
				users = append(users, readUser(i, n))
			}
		case "clients":
			for i, n := range sequence(v, "clients", &issues) {
				clients = append(clients, readClient(i, n))
			}
		default:
			return false
		}
		return true
	})
	for _, is := range issues {
		p.errorf("%s", is)
	}
	return users, clients
}

// yamlProblem returns the message of a YAML syntax error. Syntax errors
// name a line and a problem, not the text found there.
func yamlProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func readUser(index int, n *yaml.Node) rawUser {
	u := rawUser{index: index, line: n.Line}
	u.notMapping = !fields(n, "the entry", &u.issues, func(key string, v *yaml.Node) bool {
		switch key {
		case "username":
			u.username = scalar(v, key, &u.issues)
		case "password_hash":
			u.hash = scalar(v, key, &u.issues)
		case "scopes":
			u.scopes = list(v, key, &u.issues)
		case "claims":
			u.claims = v
		default:
			return false
		}
		return true
	})
	return u
}

func readClient(index int, n *yaml.Node) rawClient {
	c := rawClient{index: index, line: n.Line}
	c.notMapping = !fields(n, "the entry", &c.issues, func(key string, v *yaml.Node) bool {
		switch key {
		case "client_id":
			c.clientID = scalar(v, key, &c.issues)
		case "client_secret_hash":
			c.hash = scalar(v, key, &c.issues)
		case "grant_types":
			c.grantTypes = list(v, key, &c.issues)
		case "scopes":
			c.scopes = list(v, key, &c.issues)
		case "introspect":
			c.introspect = boolean(v, key, &c.issues)
		case "public":
			c.public = boolean(v, key, &c.issues)
		case "audience":
			c.audience = list(v, key, &c.issues)
		case "access_token_ttl":
			c.accessTTL = scalar(v, key, &c.issues)
		case "refresh_token_ttl":
			c.refreshTTL = scalar(v, key, &c.issues)
		case "claims":
			c.claims = v
		case "admin":
			c.admin = boolean(v, key, &c.issues)
		case "dpop_bound_access_tokens":
			c.dpopBound = boolean(v, key, &c.issues)
		default:
			return false
		}
		return true
	})
	return c
}

// fields calls visit for each field of the mapping n; visit returns false
// for a field it does not know. It returns false when n is not a mapping.
func fields(n *yaml.Node, what string, issues *[]string, visit func(key string, v *yaml.Node) bool) bool {
	if n.Kind == yaml.AliasNode {
		*issues = append(*issues, fmt.Sprintf("line %d: YAML aliases are not supported", n.Line))
		return false
	}
	if n.Kind != yaml.MappingNode {
		*issues = append(*issues, fmt.Sprintf("line %d: %s must be a mapping", n.Line, what))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			*issues = append(*issues, fmt.Sprintf("line %d: a field name must be a string", k.Line))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			*issues = append(*issues, fmt.Sprintf("line %d: field %s given twice (first at line %d)", k.Line, fieldName(k.Value), first))
			continue
		}
		seen[k.Value] = k.Line
		if !visit(k.Value, v) {
			*issues = append(*issues, fmt.Sprintf("line %d: unknown field %s", k.Line, fieldName(k.Value)))
		}
	}
	return true
}

// fieldName quotes a field name for a message when it looks like one; a
// misplaced value (which could be a hash) is not repeated.
func fieldName(key string) string {
	if key == "" || len(key) > 40 {
		return "(unnamed)"
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !isAlnum(c) && c != '_' && c != '-' {
			return "(unnamed)"
		}
	}
	return fmt.Sprintf("%q", key)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// sequence returns the items of a list field; null is an empty list.
func sequence(n *yaml.Node, field string, issues *[]string) []*yaml.Node {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.AliasNode:
		*issues = append(*issues, fmt.Sprintf("line %d: %s: YAML aliases are not supported", n.Line, field))
	case n.Kind != yaml.SequenceNode:
		*issues = append(*issues, fmt.Sprintf("line %d: %s must be a list", n.Line, field))
	default:
		return n.Content
	}
	return nil
}

// scalar returns a string field; null is "".
func scalar(n *yaml.Node, field string, issues *[]string) string {
	switch {
	case isNull(n):
		return ""
	case n.Kind == yaml.AliasNode:
		*issues = append(*issues, fmt.Sprintf("%s: YAML aliases are not supported", field))
	case n.Kind != yaml.ScalarNode:
		*issues = append(*issues, fmt.Sprintf("%s must be a string", field))
	default:
		return n.Value
	}
	return ""
}

// list returns a list-of-strings field; null is an empty list.
func list(n *yaml.Node, field string, issues *[]string) []string {
	var out []string
	for i, item := range sequence(n, field, issues) {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			*issues = append(*issues, fmt.Sprintf("%s: item %d must be a string", field, i))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func boolean(n *yaml.Node, field string, issues *[]string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		*issues = append(*issues, fmt.Sprintf("%s must be true or false", field))
		return false
	}
	return strings.EqualFold(n.Value, "true")
}

// label names an entry in messages: list index, name and line.
func label(list string, index int, name string, line int) string {
	if name == "" || strings.HasPrefix(name, "$") {
		// No name, or a misplaced value that could be a hash: not repeated.
		return fmt.Sprintf("%s[%d] (line %d)", list, index, line)
	}
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	return fmt.Sprintf("%s[%d] %q (line %d)", list, index, name, line)
}

// users validates the user entries, adds the valid ones to s and their
// scopes to scopes, and returns their hashes in file order.
func (p *parser) users(s *Set, raw []rawUser, scopes map[string]bool) []*parsedHash {
	var hashes []*parsedHash
	firstLine := map[string]int{}
	for _, r := range raw {
		name := label("users", r.index, r.username, r.line)
		issues := r.issues
		if r.notMapping {
			for _, is := range issues {
				p.errorf("%s: %s", name, is)
			}
			continue
		}
		issues = append(issues, checkName("username", r.username, firstLine, r.line)...)
		h, problem := checkHash("password_hash", r.hash)
		if problem != "" {
			issues = append(issues, problem)
		} else if h.kind == kindSHA256 {
			// A user's password is chosen by a person and can be guessed;
			// only a slow hash makes guessing from a leaked file expensive.
			issues = append(issues, "password_hash: the sha256 hash is for generated client secrets only; "+
				"hash passwords with argon2id (authsvc hash-password) or bcrypt")
		} else if w := h.weakness(); w != "" {
			p.warnf("%s: %s", name, w)
		}
		issues = append(issues, checkScopes(r.scopes)...)
		cl, problem := readClaims(r.claims)
		if problem != "" {
			issues = append(issues, problem)
		}
		if len(issues) > 0 {
			for _, is := range issues {
				p.errorf("%s: %s", name, is)
			}
			continue
		}
		for _, sc := range r.scopes {
			scopes[sc] = true
		}
		hashes = append(hashes, h)
		s.users[r.username] = userEntry{
			user: User{Username: r.username, PasswordHash: r.hash, Scopes: r.scopes, Claims: cl},
			hash: h,
		}
	}
	return hashes
}

// clients is users for client entries.
func (p *parser) clients(s *Set, raw []rawClient, scopes map[string]bool) []*parsedHash {
	var hashes []*parsedHash
	firstLine := map[string]int{}
	for _, r := range raw {
		name := label("clients", r.index, r.clientID, r.line)
		issues := r.issues
		if r.notMapping {
			for _, is := range issues {
				p.errorf("%s: %s", name, is)
			}
			continue
		}
		issues = append(issues, checkName("client_id", r.clientID, firstLine, r.line)...)
		var h *parsedHash
		if r.public {
			// A public client has no secret (RFC 6749 §2.1).
			if r.hash != "" {
				issues = append(issues, "client_secret_hash: a public client has no secret; remove the hash or public: true")
			}
		} else {
			var problem string
			if h, problem = checkHash("client_secret_hash", r.hash); problem != "" {
				issues = append(issues, problem)
			} else if w := h.weakness(); w != "" {
				p.warnf("%s: %s", name, w)
			}
		}
		issues = append(issues, checkGrantTypes(r.grantTypes)...)
		issues = append(issues, checkScopes(r.scopes)...)
		issues = append(issues, checkAudience(r.audience)...)
		accessTTL, refreshTTL, ttlIssues := checkLifetimes(r.accessTTL, r.refreshTTL)
		issues = append(issues, ttlIssues...)
		cl, problem := readClaims(r.claims)
		if problem != "" {
			issues = append(issues, problem)
		}
		if len(issues) > 0 {
			for _, is := range issues {
				p.errorf("%s: %s", name, is)
			}
			continue
		}
		if len(r.grantTypes) == 0 && !r.introspect && !r.admin {
			p.warnf("%s: allows no grant type and may not introspect, so it can do nothing", name)
		}
		if r.public && (slices.Contains(r.grantTypes, oauth.GrantClientCredentials) || r.introspect) {
			p.warnf("%s: a public client can never use client_credentials or introspection; those settings have no effect", name)
		}
		for _, sc := range r.scopes {
			scopes[sc] = true
		}
		if h != nil {
			hashes = append(hashes, h)
		}
		s.public = s.public || r.public
		for _, a := range r.audience {
			if !slices.Contains(s.audiences, a) {
				s.audiences = append(s.audiences, a)
			}
		}
		slices.Sort(s.audiences)
		s.clients[r.clientID] = clientEntry{
			client: Client{
				ClientID: r.clientID, SecretHash: r.hash, GrantTypes: r.grantTypes,
				Scopes: r.scopes, Introspect: r.introspect, Admin: r.admin, Public: r.public,
				Audience: r.audience, AccessTokenTTL: accessTTL, RefreshTokenTTL: refreshTTL,
				Claims: cl, DPoPBound: r.dpopBound,
			},
			hash: h,
		}
	}
	return hashes
}

// checkName checks a username or client id, recording it in firstLine to
// find duplicates.
func checkName(field, name string, firstLine map[string]int, line int) []string {
	switch {
	case name == "":
		return []string{field + " is missing or empty"}
	case len(name) > oauth.MaxNameLen:
		return []string{fmt.Sprintf("%s is longer than %d bytes", field, oauth.MaxNameLen)}
	}
	if first, dup := firstLine[name]; dup {
		return []string{fmt.Sprintf("duplicate %s (first at line %d)", field, first)}
	}
	firstLine[name] = line
	return nil
}

// checkHash parses a hash field; the problem never contains the hash.
func checkHash(field, encoded string) (*parsedHash, string) {
	if encoded == "" {
		return nil, field + " is missing or empty"
	}
	h, err := parseHash(encoded)
	if err != nil {
		return nil, field + ": " + hashProblem(err)
	}
	return h, ""
}

func checkGrantTypes(grants []string) []string {
	var issues []string
	seen := map[string]bool{}
	for _, g := range grants {
		switch {
		case g != oauth.GrantPassword && g != oauth.GrantClientCredentials && g != oauth.GrantRefreshToken:
			issues = append(issues, fmt.Sprintf("grant_types: unknown grant type %s (want %s, %s or %s)",
				quoteShort(g), oauth.GrantPassword, oauth.GrantClientCredentials, oauth.GrantRefreshToken))
		case seen[g]:
			issues = append(issues, fmt.Sprintf("grant_types: %s given twice", quoteShort(g)))
		}
		seen[g] = true
	}
	return issues
}

func checkScopes(scopes []string) []string {
	var issues []string
	seen := map[string]bool{}
	for _, sc := range scopes {
		switch {
		case !ValidScope(sc):
			issues = append(issues, fmt.Sprintf("scopes: %s is not a valid scope token (RFC 6749 §3.3)", quoteShort(sc)))
		case seen[sc]:
			issues = append(issues, fmt.Sprintf("scopes: %s given twice", quoteShort(sc)))
		}
		seen[sc] = true
	}
	return issues
}

// checkAudience checks a client's audience list: non-empty values, each
// once.
func checkAudience(aud []string) []string {
	var issues []string
	seen := map[string]bool{}
	for _, a := range aud {
		switch {
		case a == "":
			issues = append(issues, "audience: an entry is empty")
		case seen[a]:
			issues = append(issues, fmt.Sprintf("audience: %s given twice", quoteShort(a)))
		}
		seen[a] = true
	}
	return issues
}

// checkLifetimes parses a client's access_token_ttl and refresh_token_ttl
// (Go durations, empty for the global lifetimes). The limits that depend on
// the global lifetimes are checked by Set.CheckLimits.
func checkLifetimes(access, refresh string) (accessTTL, refreshTTL time.Duration, issues []string) {
	parse := func(field, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			issues = append(issues, field+" is not a Go duration such as 5m or 24h")
		case d <= 0:
			issues = append(issues, field+" must be positive")
		}
		return d
	}
	accessTTL, refreshTTL = parse("access_token_ttl", access), parse("refresh_token_ttl", refresh)
	if accessTTL > 0 && refreshTTL > 0 && accessTTL >= refreshTTL {
		issues = append(issues, "access_token_ttl must be below refresh_token_ttl")
	}
	return accessTTL, refreshTTL, issues
}

// readClaims turns the claims field of an entry into a claims.Set: a
// mapping of names to JSON-compatible values, no reserved name, at most
// claims.MaxBytes as JSON. The problem never quotes a value.
func readClaims(n *yaml.Node) (claims.Set, string) {
	if n == nil || isNull(n) {
		return claims.Set{}, ""
	}
	if hasAlias(n) {
		return claims.Set{}, "claims: YAML aliases are not supported"
	}
	if n.Kind != yaml.MappingNode {
		return claims.Set{}, "claims must be a mapping of names to values"
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return claims.Set{}, "claims must be a mapping of names to values"
	}
	s, err := claims.FromValues(m)
	if err != nil {
		return claims.Set{}, "claims: " + err.Error()
	}
	return s, ""
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// ValidScope reports whether s is a scope-token of RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func ValidScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// quoteShort quotes a short value from the file for a message; a misplaced
// value that could be a hash is not repeated.
func quoteShort(s string) string {
	if strings.HasPrefix(s, "$") {
		return "(a value starting with $)"
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}
