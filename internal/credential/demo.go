package credential

import "slices"

// demoHashes are the password and secret hashes of configs/dev-credentials.yaml,
// the demo users and client whose passwords the README prints.
// TestDemoHashes_MatchTheDevFile keeps the list in step with the file.
var demoHashes = []string{
	"$argon2id$v=19$m=19456,t=2,p=1$1yBKPjn5mDUAHZ+dPAZDxQ$EpQBtGg3cZY6StHF0cm1sbSy/34BxxIUdI6+GAgoHxM",
	"$argon2id$v=19$m=19456,t=2,p=1$XsFYkzeOVx32ke9IFbBjsw$/ZCtWu9odCIZEkVqMUxJytDAXbaHud3gRPolUkeuZl4",
	"$argon2id$v=19$m=19456,t=2,p=1$08gGO0/7QC6pXzbUJT8qbg$9lncP0uqsGS1hsbqN/UcSINBOhBHi+D0ZlYKIoLFFo8",
}

// DemoEntries names the users and clients of the set whose hash is one of
// the demo hashes shipped in configs/dev-credentials.yaml, whose passwords
// are public: "user alice", "client demo-app". It is empty for a set that
// holds none.
func (s *Set) DemoEntries() []string {
	if s == nil {
		return nil
	}
	var out []string
	for name, e := range s.users {
		if slices.Contains(demoHashes, e.user.PasswordHash) {
			out = append(out, "user "+name)
		}
	}
	for id, e := range s.clients {
		if slices.Contains(demoHashes, e.client.SecretHash) {
			out = append(out, "client "+id)
		}
	}
	slices.Sort(out)
	return out
}
