package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// mountRoot is where the chart mounts every Secret.
const mountRoot = "/etc/authsvc/"

// TestChart_AuthsvcAcceptsTheRenderedConfiguration runs `authsvc
// check-config` with the environment the chart's Deployment sets and the
// files its Secrets would mount, for every topology: each variable the chart
// sets is one authsvc reads and accepts, and each *_FILE path names a key of
// a mounted Secret. Secrets the values only name (existingSecret) are
// stood in for by files the test writes.
func TestChart_AuthsvcAcceptsTheRenderedConfiguration(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "authsvc")
	build := exec.Command("go", "build", "-o", bin, "./cmd/authsvc")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build authsvc: %v\n%s", err, out)
	}
	for topo, values := range topologies(t) {
		t.Run(topo, func(t *testing.T) {
			ms := mustCheck(t, values)
			d := find[*appsv1.Deployment](ms)[0]
			root := t.TempDir()
			secrets := map[string]*corev1.Secret{}
			for _, s := range find[*corev1.Secret](ms) {
				secrets[s.Name] = s
			}
			pod := d.Spec.Template.Spec
			c := pod.Containers[0]
			for _, vm := range c.VolumeMounts {
				dir := filepath.Join(root, strings.TrimPrefix(vm.MountPath, mountRoot))
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				for _, v := range pod.Volumes {
					if v.Name != vm.Name || v.Secret == nil {
						continue
					}
					if s, ok := secrets[v.Secret.SecretName]; ok {
						for k, val := range s.StringData {
							writeFile(t, filepath.Join(dir, k), val)
						}
					} else {
						standIn(t, v.Secret.SecretName, dir)
					}
				}
			}
			cmd := exec.Command(bin, "check-config")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for _, e := range c.Env {
				if e.ValueFrom != nil {
					t.Errorf("env %s comes from elsewhere", e.Name)
					continue
				}
				v := e.Value
				if strings.HasPrefix(v, mountRoot) {
					v = filepath.Join(root, strings.TrimPrefix(v, mountRoot))
				}
				cmd.Env = append(cmd.Env, e.Name+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("authsvc check-config refused the chart's configuration: %v\n%s", err, out)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// standIn writes what an existing Secret named in the ci values holds.
func standIn(t *testing.T, name, dir string) {
	t.Helper()
	switch name {
	case "authsvc-secrets":
		writeFile(t, filepath.Join(dir, "secret-key"), "stand-in-secret-key-0123456789-abcdefghijkl\n")
		writeFile(t, filepath.Join(dir, "refresh-secret-key"), "stand-in-refresh-key-9876543210-zyxwvutsrq\n")
		writeFile(t, filepath.Join(dir, "redis-password"), "stand-in-redis-password\n")
	case "authsvc-credentials":
		writeFile(t, filepath.Join(dir, "credentials.yaml"), "users: []\nclients:\n  - client_id: stand-in\n"+
			"    client_secret_hash: \"$sha256$YUKhr2iIcdkZdk8ucXlwvg$3QRXQcmbGmKfydqDMlg5Eyh2bVLp/yQoeSe6N1BR1gA\"\n    grant_types: [client_credentials]\n")
	case "authsvc-keys":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "current.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
		writeFile(t, filepath.Join(dir, "keys.yaml"), "keys:\n  - private_key_file: current.pem\n    active_from: 2020-01-01T00:00:00Z\n")
	default:
		t.Fatalf("no stand-in for the Secret %s", name)
	}
}
