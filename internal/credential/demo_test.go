package credential

import (
	"os"
	"slices"
	"testing"
)

func TestDemoHashes_MatchTheDevFile(t *testing.T) {
	set, _, err := Load("../../configs/dev-credentials.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, e := range set.users {
		hashes = append(hashes, e.user.PasswordHash)
	}
	for _, e := range set.clients {
		hashes = append(hashes, e.client.SecretHash)
	}
	slices.Sort(hashes)
	want := slices.Sorted(slices.Values(demoHashes))
	if !slices.Equal(hashes, want) {
		t.Fatalf("the dev file's hashes are not the demo list:\nfile %q\nlist %q", hashes, want)
	}
	if got := set.DemoEntries(); len(got) != len(hashes) {
		t.Fatalf("DemoEntries = %q, want every entry", got)
	}
}

func TestDemoEntries_NamesOnlyDemoHashes(t *testing.T) {
	yaml := "users:\n  - username: alice\n    password_hash: \"" + demoHashes[0] + "\"\n    scopes: [read]\n" +
		"  - username: carol\n    password_hash: \"" + mustBcrypt(t, "carol-pw", 4) + "\"\n    scopes: [read]\n"
	set, _, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.DemoEntries(); !slices.Equal(got, []string{"user alice"}) {
		t.Fatalf("DemoEntries = %q, want [user alice]", got)
	}
}

// TestExampleFile_HoldsNoUsableHash: the example credentials file has
// placeholders where the hashes go, so that copying it unchanged cannot
// start a service anyone can log in to.
func TestExampleFile_HoldsNoUsableHash(t *testing.T) {
	data, err := os.ReadFile("../../configs/credentials.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Parse(data); err == nil {
		t.Fatal("configs/credentials.example.yaml parses: its hashes must be placeholders")
	}
}
