package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

const chartDir = "../../deploy/helm/authsvc"

func topologies(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"single", "sentinel", "cluster"} {
		out[name] = filepath.Join(chartDir, "ci", name+"-values.yaml")
	}
	return out
}

// mustCheck renders the chart with the values files and returns its
// manifests, failing on any problem.
func mustCheck(t *testing.T, values ...string) []Manifest {
	t.Helper()
	ms, errs := CheckValues(chartDir, values...)
	for _, e := range errs {
		t.Error(e)
	}
	return ms
}

func find[T any](ms []Manifest) []T {
	var out []T
	for _, m := range ms {
		if o, ok := m.Object.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// TestChart_EveryTopologyRendersValidManifests renders the chart for the
// single-node, Sentinel and Cluster values and checks every manifest
// against the Kubernetes API types, then what the deployment must hold.
func TestChart_EveryTopologyRendersValidManifests(t *testing.T) {
	for topo, values := range topologies(t) {
		t.Run(topo, func(t *testing.T) {
			ms := mustCheck(t, values)
			deps := find[*appsv1.Deployment](ms)
			if len(deps) != 1 {
				t.Fatalf("%d Deployments", len(deps))
			}
			d := deps[0]
			replicas := int32(0)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			for _, h := range find[*autoscalingv2.HorizontalPodAutoscaler](ms) {
				if h.Spec.MinReplicas != nil {
					replicas = *h.Spec.MinReplicas
				}
			}
			if replicas < 2 {
				t.Errorf("%d replicas, want at least 2", replicas)
			}
			pod := d.Spec.Template.Spec
			if len(pod.TopologySpreadConstraints) == 0 {
				t.Errorf("no topology spread")
			}
			if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
				t.Errorf("pod may run as root")
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("the service account token is mounted")
			}
			if d.Spec.Template.Annotations["checksum/secrets"] == "" {
				t.Errorf("no checksum annotation")
			}
			c := pod.Containers[0]
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("container security context: %+v", sc)
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("liveness probe is not /healthz")
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("readiness probe is not /readyz")
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("no resource requests and limits")
			}

			// Secrets come from files only, never as values.
			env := envOf(c)
			for _, name := range []string{"SECRET_KEY", "REFRESH_SECRET_KEY", "REDIS_URL", "REDIS_PASSWORD"} {
				if _, ok := env[name]; ok {
					t.Errorf("%s is set as a value; it must come from %s_FILE", name, name)
				}
			}
			for _, name := range []string{"SECRET_KEY_FILE", "REFRESH_SECRET_KEY_FILE", "CREDENTIALS_FILE", "MANAGEMENT_ADDR"} {
				if env[name] == "" {
					t.Errorf("%s is not set", name)
				}
			}
			switch topo {
			case "single":
				if env["REDIS_URL_FILE"] == "" {
					t.Errorf("single: no REDIS_URL_FILE")
				}
			case "sentinel":
				if env["REDIS_SENTINEL_ADDRS"] == "" || env["REDIS_SENTINEL_MASTER"] == "" || env["REDIS_PASSWORD_FILE"] == "" || env["JWT_KEYS_FILE"] == "" {
					t.Errorf("sentinel env: %v", env)
				}
			case "cluster":
				if env["REDIS_CLUSTER_ADDRS"] == "" || env["REDIS_TLS"] != "true" || env["REDIS_PASSWORD_FILE"] == "" {
					t.Errorf("cluster env: %v", env)
				}
			}
			// The check-config hook, where enabled, checks exactly what
			// the Deployment runs with.
			for _, j := range find[*batchv1.Job](ms) {
				jc := j.Spec.Template.Spec.Containers[0]
				if !slices.Equal(jc.Args, []string{"check-config"}) || !reflect.DeepEqual(jc.Env, c.Env) ||
					!reflect.DeepEqual(jc.VolumeMounts, c.VolumeMounts) || !reflect.DeepEqual(j.Spec.Template.Spec.Volumes, pod.Volumes) {
					t.Errorf("the check-config Job does not run check-config with the Deployment's environment and mounts")
				}
			}
			if topo == "sentinel" && len(find[*batchv1.Job](ms)) != 1 {
				t.Errorf("sentinel values enable the check-config hook, but no Job was rendered")
			}

			if len(find[*policyv1.PodDisruptionBudget](ms)) != 1 {
				t.Errorf("no PodDisruptionBudget")
			}
			// The management port is reachable only from the named peers.
			nps := find[*networkingv1.NetworkPolicy](ms)
			if len(nps) != 1 {
				t.Fatalf("%d NetworkPolicies", len(nps))
			}
			guarded := false
			for _, rule := range nps[0].Spec.Ingress {
				for _, p := range rule.Ports {
					if p.Port != nil && p.Port.StrVal == "management" {
						guarded = len(rule.From) > 0
					}
				}
			}
			if !guarded {
				t.Errorf("the management port is open to every peer")
			}
			for _, s := range find[*corev1.Service](ms) {
				for _, p := range s.Spec.Ports {
					if p.TargetPort.StrVal == "management" && s.Spec.Type != corev1.ServiceTypeClusterIP {
						t.Errorf("Service %s exposes the management port as %s", s.Name, s.Spec.Type)
					}
				}
			}
		})
	}
}

// TestChart_RejectsBrokenInput proves the check can fail: a misspelt field,
// a value of the wrong type, a template that does not render, an unknown
// kind and broken references are each reported.
func TestChart_RejectsBrokenInput(t *testing.T) {
	base := topologies(t)["single"]
	for _, tc := range []struct {
		name     string
		values   string // overlay in testdata/values
		template string // extra template from testdata/templates
		want     string
	}{
		{"misspelt field from values", "misspelt-field.yaml", "", `Deployment authsvc: error unmarshaling JSON: while decoding JSON: json: unknown field "nodeAfinity"`},
		{"wrong type from values", "wrong-type.yaml", "", "quantities must match the regular expression"},
		{"required value missing", "missing-issuer.yaml", "", "config.jwtIssuer is required"},
		{"one replica", "one-replica.yaml", "", "replicaCount must be at least 2"},
		{"hook with the chart's own Secrets", "hook-with-chart-secrets.yaml", "", "checkConfigHook needs secrets.existingSecret"},
		{"undefined value in a template", "", "undefined-value.yaml", `map has no entry for key "noSuchSection"`},
		{"template syntax error", "", "syntax-error.yaml", "syntax-error.yaml"},
		{"field of the wrong type", "", "wrong-type-field.yaml", "cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"},
		{"unknown field", "", "unknown-field.yaml", `unknown field "selektor"`},
		{"unknown kind", "", "unknown-kind.yaml", `"v1" "ConfigMapp" is not a kind`},
		{"service selects no pod", "", "service-selects-nothing.yaml", "selects no pod of the chart"},
		{"port name no pod has", "", "bad-port-name.yaml", `no selected pod has a port named "metrics"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := chartDir
			if tc.template != "" {
				dir = copyChart(t, filepath.Join("testdata", "templates", tc.template))
			}
			values := []string{base}
			if tc.values != "" {
				values = append(values, filepath.Join("testdata", "values", tc.values))
			}
			_, errs := CheckValues(dir, values...)
			if len(errs) == 0 {
				t.Fatalf("no problem found, want %q", tc.want)
			}
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.want) {
				t.Errorf("problems %q lack %q", all, tc.want)
			}
		})
	}
}

// copyChart copies the chart into a temporary folder with one extra
// template added.
func copyChart(t *testing.T, extra string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "authsvc")
	err := filepath.WalkDir(chartDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(extra)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "templates", "zz-"+filepath.Base(extra)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
