package handler

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/oauth"
)

// metadata is the authorization server metadata document (RFC 8414 §2).
type metadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ScopesSupported                           []string `json:"scopes_supported,omitempty"`
	RevocationFeedEndpoint                    string   `json:"revocation_feed_endpoint"`
	// DPoPSigningAlgValuesSupported are the algorithms accepted for DPoP
	// proofs (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	// ResourceIndicatorsSupported says /token and /refresh take the
	// resource parameter of RFC 8707 (an authsvc extension: RFC 8707
	// defines no metadata of its own).
	ResourceIndicatorsSupported bool `json:"resource_indicators_supported"`
}

// metadataDocument builds the RFC 8414 document once. issuer is JWT_ISSUER,
// the service's public base URL: the endpoint URLs are built from it.
// public tells whether a public client exists: the token and revocation
// endpoints then also list "none" (client_id alone, RFC 7591 §2). dpopAlgs
// are DPOP_SIGNING_ALGS.
func metadataDocument(issuer string, scopes, dpopAlgs []string, public bool) []byte {
	base := strings.TrimRight(issuer, "/")
	// RFC 6749 §2.3.1: HTTP Basic, or the credentials in the body.
	authMethods := []string{"client_secret_basic", "client_secret_post"}
	publicMethods := authMethods
	if public {
		publicMethods = []string{"client_secret_basic", "client_secret_post", "none"}
	}
	doc := metadata{
		Issuer:                                 issuer,
		TokenEndpoint:                          base + "/token",
		RevocationEndpoint:                     base + "/revoke",
		IntrospectionEndpoint:                  base + "/introspect",
		JWKSURI:                                base + "/.well-known/jwks.json",
		GrantTypesSupported:                    []string{oauth.GrantPassword, oauth.GrantClientCredentials, oauth.GrantRefreshToken},
		TokenEndpointAuthMethodsSupported:      publicMethods,
		RevocationEndpointAuthMethodsSupported: publicMethods,
		IntrospectionEndpointAuthMethodsSupported: authMethods,
		// authsvc has no authorization endpoint, so no response types.
		ResponseTypesSupported: []string{},
		ScopesSupported:        scopes,
		// Not registered in RFC 8414: authsvc's own feed of revoked
		// access tokens and ended sessions (docs/resource-servers.md).
		RevocationFeedEndpoint:        base + "/revocations",
		DPoPSigningAlgValuesSupported: dpopAlgs,
		// RFC 8707: one resource per request, one of the client's
		// audiences (or JWT_AUDIENCE).
		ResourceIndicatorsSupported: true,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("handler: marshal metadata: " + err.Error()) // strings and string slices always marshal
	}
	return b
}

// metadataHandler serves the RFC 8414 document doc returns: one of the
// documents built at start-up, chosen by the credentials in force (a public
// client added by a reload brings "none" in).
func metadataHandler(doc func() []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc())
	}
}
