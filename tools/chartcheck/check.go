// Command chartcheck renders authsvc's Helm chart with each values file and
// checks every manifest against the Kubernetes API types, offline: each
// document is decoded strictly into its typed object (k8s.io/api, and the
// Prometheus Operator's types for a ServiceMonitor), so an unknown or
// misspelt field, a value of the wrong type, an unknown kind or a template
// that does not render fails; then the references between the objects are
// checked (selectors, named ports, volumes, names and labels).
//
// It lives in a module of its own so that Helm and the Kubernetes libraries
// stay out of the service's go.mod. No cluster is involved: admission
// webhooks, defaulting and the API server's own validation are not run.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Manifest is one rendered Kubernetes object: its template, its kind and
// the typed object it decoded into.
type Manifest struct {
	Source string
	Kind   string
	Name   string
	Object any
}

// kinds maps apiVersion/kind to a constructor of its typed object. A kind
// not listed here is an error: the chart renders no object this tool
// cannot check.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"batch/v1/Job":                            func() any { return &batchv1.Job{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

// Render renders the chart in chartDir with the values files (later files
// win, as with `helm template -f a -f b`) for a release named "authsvc" in
// the namespace "authsvc", and returns the rendered templates by file name.
func Render(chartDir string, valuesFiles ...string) (map[string]string, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	vals := map[string]any{}
	for _, vf := range valuesFiles {
		v, err := chartutil.ReadValuesFile(vf)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", vf, err)
		}
		vals = mergeValues(vals, v)
	}
	if err := chartutil.ValidateAgainstSchema(ch, vals); err != nil {
		return nil, fmt.Errorf("values schema: %w", err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	opts := chartutil.ReleaseOptions{Name: "authsvc", Namespace: "authsvc", Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValues(ch, vals, opts, caps)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	eng := engine.Engine{Strict: true}
	out, err := eng.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return out, nil
}

// mergeValues merges b into a, b winning, tables merged key by key.
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bt, ok := v.(map[string]any); ok {
			if at, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(at, bt)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// Decode splits the rendered templates into documents and decodes each
// strictly into its typed object. It returns every problem it finds.
func Decode(rendered map[string]string) ([]Manifest, []error) {
	var (
		out  []Manifest
		errs []error
	)
	files := make([]string, 0, len(rendered))
	for f := range rendered {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".yml") {
			continue // NOTES.txt, helpers
		}
		docs := releaseutil.SplitManifests(rendered[f])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			doc := docs[k]
			if strings.TrimSpace(doc) == "" {
				continue
			}
			m, err := decodeOne(f, doc)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, m)
		}
	}
	return out, errs
}

func decodeOne(file, doc string) (Manifest, error) {
	var tm struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		return Manifest{}, fmt.Errorf("%s: not YAML: %w", file, err)
	}
	key := tm.APIVersion + "/" + tm.Kind
	newObj, ok := kinds[key]
	if !ok {
		return Manifest{}, fmt.Errorf("%s: %q %q is not a kind this chart may render", file, tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	// UnmarshalStrict refuses unknown fields, duplicate fields and values
	// of the wrong type.
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		return Manifest{}, fmt.Errorf("%s: %s %s: %w", file, tm.Kind, tm.Metadata.Name, err)
	}
	return Manifest{Source: file, Kind: tm.Kind, Name: tm.Metadata.Name, Object: obj}, nil
}

// CheckValues renders chartDir with the values files (later ones win),
// decodes and checks every manifest, and returns the manifests and every
// problem.
func CheckValues(chartDir string, valuesFiles ...string) ([]Manifest, []error) {
	rendered, err := Render(chartDir, valuesFiles...)
	if err != nil {
		return nil, []error{err}
	}
	ms, errs := Decode(rendered)
	if len(errs) > 0 {
		// The references are checked on the whole set only: with an
		// object missing, every reference to it would be reported too.
		return ms, errs
	}
	return ms, Check(ms)
}

// CheckChart runs CheckValues once per values file and returns the
// manifests of each and every problem, each naming its values file.
func CheckChart(chartDir string, valuesFiles []string) (map[string][]Manifest, []error) {
	all := map[string][]Manifest{}
	var errs []error
	for _, vf := range valuesFiles {
		name := filepath.Base(vf)
		ms, verrs := CheckValues(chartDir, vf)
		for _, e := range verrs {
			errs = append(errs, fmt.Errorf("%s: %w", name, e))
		}
		all[name] = ms
	}
	return all, errs
}

func main() {
	print := flag.Bool("print", false, "print the rendered manifests, like `helm template`")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: chartcheck [-print] CHART_DIR [VALUES_FILE...]  (default: CHART_DIR/ci/*-values.yaml)")
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	chartDir, values := flag.Arg(0), flag.Args()[1:]
	if len(values) == 0 {
		values, _ = filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	}
	if len(values) == 0 {
		fmt.Fprintln(os.Stderr, "chartcheck: no values files")
		os.Exit(2)
	}
	if *print {
		for _, vf := range values {
			rendered, err := Render(chartDir, vf)
			if err != nil {
				fmt.Fprintln(os.Stderr, "chartcheck:", err)
				os.Exit(1)
			}
			names := make([]string, 0, len(rendered))
			for n := range rendered {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if strings.TrimSpace(rendered[n]) != "" && strings.HasSuffix(n, ".yaml") {
					fmt.Printf("---\n# %s (%s)\n%s\n", n, filepath.Base(vf), strings.TrimSpace(rendered[n]))
				}
			}
		}
	}
	all, errs := CheckChart(chartDir, values)
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "chartcheck:", e)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	for _, vf := range values {
		fmt.Printf("chartcheck: %s: %d manifests valid\n", filepath.Base(vf), len(all[filepath.Base(vf)]))
	}
}
