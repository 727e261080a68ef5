package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Check checks what strict decoding cannot: names and labels the API server
// would refuse, and the references between objects — selectors that select
// the pods, named ports and volumes that exist, Secrets that are mounted.
func Check(ms []Manifest) []error {
	var errs []error
	bad := func(m Manifest, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s %s: "+format, append([]any{m.Source, m.Kind, m.Name}, args...)...))
	}
	var pods []podOf
	seen := map[string]bool{}
	for _, m := range ms {
		key := m.Kind + "/" + m.Name
		if seen[key] {
			bad(m, "rendered twice")
		}
		seen[key] = true
		meta := objectMeta(m.Object)
		for _, e := range validation.IsDNS1123Subdomain(meta.Name) {
			bad(m, "name: %s", e)
		}
		for k, v := range meta.Labels {
			for _, e := range validation.IsQualifiedName(k) {
				bad(m, "label key %q: %s", k, e)
			}
			for _, e := range validation.IsValidLabelValue(v) {
				bad(m, "label %q value: %s", k, e)
			}
		}
		switch o := m.Object.(type) {
		case *appsv1.Deployment:
			pods = append(pods, podOf{m, o})
			errs = append(errs, checkDeployment(m, o)...)
		case *batchv1.Job:
			errs = append(errs, checkPodSpec(m, o.Spec.Template.Spec)...)
		}
	}
	for _, m := range ms {
		switch o := m.Object.(type) {
		case *corev1.Service:
			if len(o.Spec.Selector) == 0 {
				bad(m, "selects no pods")
			}
			for _, p := range o.Spec.Ports {
				if p.TargetPort.Type == intstr.String && !anyPodHasPort(pods, labels.SelectorFromSet(o.Spec.Selector), p.TargetPort.StrVal) {
					bad(m, "port %s: no selected pod has a port named %q", p.Name, p.TargetPort.StrVal)
				}
			}
			if !selectsAPod(pods, labels.SelectorFromSet(o.Spec.Selector)) {
				bad(m, "selector %v selects no pod of the chart", o.Spec.Selector)
			}
		case *policyv1.PodDisruptionBudget:
			errs = append(errs, checkSelector(m, o.Spec.Selector, pods)...)
		case *networkingv1.NetworkPolicy:
			errs = append(errs, checkSelector(m, &o.Spec.PodSelector, pods)...)
			for _, rule := range o.Spec.Ingress {
				for _, p := range rule.Ports {
					if p.Port != nil && p.Port.Type == intstr.String {
						sel, _ := metav1.LabelSelectorAsSelector(&o.Spec.PodSelector)
						if !anyPodHasPort(pods, sel, p.Port.StrVal) {
							bad(m, "ingress port %q is no port of the selected pods", p.Port.StrVal)
						}
					}
				}
			}
		case *corev1.Secret:
			if o.Type != "" && o.Type != corev1.SecretTypeOpaque {
				bad(m, "type %s, want Opaque", o.Type)
			}
		}
	}
	return errs
}

type podOf struct {
	m Manifest
	d *appsv1.Deployment
}

func objectMeta(o any) metav1.ObjectMeta {
	type hasMeta interface{ GetObjectMeta() metav1.Object }
	if h, ok := o.(hasMeta); ok {
		om := h.GetObjectMeta()
		return metav1.ObjectMeta{Name: om.GetName(), Labels: om.GetLabels()}
	}
	return metav1.ObjectMeta{}
}

func selectsAPod(pods []podOf, sel labels.Selector) bool {
	for _, p := range pods {
		if sel.Matches(labels.Set(p.d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}

func anyPodHasPort(pods []podOf, sel labels.Selector, name string) bool {
	for _, p := range pods {
		if !sel.Matches(labels.Set(p.d.Spec.Template.Labels)) {
			continue
		}
		for _, c := range p.d.Spec.Template.Spec.Containers {
			for _, port := range c.Ports {
				if port.Name == name {
					return true
				}
			}
		}
	}
	return false
}

func checkSelector(m Manifest, ls *metav1.LabelSelector, pods []podOf) []error {
	if ls == nil {
		return []error{fmt.Errorf("%s: %s %s: no selector", m.Source, m.Kind, m.Name)}
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return []error{fmt.Errorf("%s: %s %s: selector: %w", m.Source, m.Kind, m.Name, err)}
	}
	if sel.Empty() || !selectsAPod(pods, sel) {
		return []error{fmt.Errorf("%s: %s %s: selector %v selects no pod of the chart", m.Source, m.Kind, m.Name, ls.MatchLabels)}
	}
	return nil
}

// checkDeployment checks a Deployment's pod template on its own.
func checkDeployment(m Manifest, d *appsv1.Deployment) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: Deployment %s: "+format, append([]any{m.Source, m.Name}, args...)...))
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		bad("no valid selector")
	} else if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		bad("selector %v does not match the pod template's labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	return append(errs, checkPodSpec(m, d.Spec.Template.Spec)...)
}

// checkPodSpec checks a pod template: containers, ports, probes, env and
// volume mounts.
func checkPodSpec(m Manifest, spec corev1.PodSpec) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s %s: "+format, append([]any{m.Source, m.Kind, m.Name}, args...)...))
	}
	if len(spec.Containers) == 0 {
		bad("no container")
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		for _, e := range validation.IsDNS1123Label(v.Name) {
			bad("volume %q: %s", v.Name, e)
		}
		volumes[v.Name] = true
	}
	for _, c := range spec.Containers {
		if c.Image == "" {
			bad("container %s: no image", c.Name)
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			if p.Name != "" {
				for _, e := range validation.IsValidPortName(p.Name) {
					bad("container %s: port name %q: %s", c.Name, p.Name, e)
				}
				ports[p.Name] = true
			}
			for _, e := range validation.IsValidPortNum(int(p.ContainerPort)) {
				bad("container %s: port %d: %s", c.Name, p.ContainerPort, e)
			}
		}
		for _, probe := range []struct {
			name string
			p    *corev1.Probe
		}{{"liveness", c.LivenessProbe}, {"readiness", c.ReadinessProbe}, {"startup", c.StartupProbe}} {
			if probe.p != nil && probe.p.HTTPGet != nil && probe.p.HTTPGet.Port.Type == intstr.String && !ports[probe.p.HTTPGet.Port.StrVal] {
				bad("container %s: %s probe port %q is not a port of the container", c.Name, probe.name, probe.p.HTTPGet.Port.StrVal)
			}
		}
		names := map[string]bool{}
		for _, e := range c.Env {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				bad("container %s: env %q: %s", c.Name, e.Name, msg)
			}
			if names[e.Name] {
				bad("container %s: env %s set twice", c.Name, e.Name)
			}
			names[e.Name] = true
		}
		for _, vm := range c.VolumeMounts {
			if !volumes[vm.Name] {
				bad("container %s: mounts volume %q, which the pod does not have", c.Name, vm.Name)
			}
		}
	}
	return errs
}
