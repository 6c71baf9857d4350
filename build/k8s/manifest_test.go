// Package k8s checks the Kubernetes manifests shipped in this folder: each
// document decodes strictly (no unknown or misspelt field) into the
// Kubernetes API type its kind names, and the StatefulSet follows the
// agent's rules (README, "Scaling out and staying up"). It is a module of
// its own so that the agent never links the Kubernetes API.
package k8s

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// shutdownBound is the agent's bounded stop (DESIGN.md: the store is closed
// within 10 s of SIGTERM); the grace period must exceed it.
const shutdownBound = 10

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decode reads every document of a manifest file into its API type.
func decode(t *testing.T, path string) []any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if len(bytes.TrimSpace([]byte(doc))) == 0 {
			continue
		}
		var tm typeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s, document %d: %v", path, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Service":
			obj = &corev1.Service{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		default:
			t.Fatalf("%s, document %d: %s %s is not a kind these manifests ship", path, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s, document %d (%s): %v", path, i+1, tm.Kind, err)
		}
		out = append(out, obj)
	}
	return out
}

func TestManifests(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests here: %v", err)
	}
	var sets []*appsv1.StatefulSet
	services := map[string]*corev1.Service{}
	for _, f := range files {
		for _, obj := range decode(t, f) {
			switch o := obj.(type) {
			case *appsv1.StatefulSet:
				sets = append(sets, o)
			case *corev1.Service:
				services[o.Name] = o
			}
		}
	}
	if len(sets) == 0 {
		t.Fatal("no StatefulSet")
	}
	for _, s := range sets {
		for _, problem := range checkAgent(s, services) {
			t.Errorf("StatefulSet %s: %s", s.Name, problem)
		}
	}
}

// checkAgent lists where a StatefulSet breaks the agent's rules.
func checkAgent(s *appsv1.StatefulSet, services map[string]*corev1.Service) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if s.Spec.Replicas == nil || *s.Spec.Replicas != 1 {
		bad("replicas must be 1: one agent owns one store")
	}
	if svc := services[s.Spec.ServiceName]; svc == nil {
		bad("its service %q is not in the manifests", s.Spec.ServiceName)
	} else if sel := svc.Spec.Selector; len(sel) == 0 || !subset(sel, s.Spec.Template.Labels) {
		bad("service %s does not select its pods", svc.Name)
	}
	if !subset(s.Spec.Selector.MatchLabels, s.Spec.Template.Labels) {
		bad("its selector does not match its pod template")
	}
	pod := s.Spec.Template.Spec
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= shutdownBound {
		bad("terminationGracePeriodSeconds must exceed the agent's %d s bounded stop", shutdownBound)
	}
	claims := map[string]bool{}
	for _, c := range s.Spec.VolumeClaimTemplates {
		claims[c.Name] = true
	}
	secrets := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = true
		}
	}
	var agent *corev1.Container
	for i := range pod.Containers {
		if pod.Containers[i].Name == "agent" {
			agent = &pod.Containers[i]
		}
	}
	if agent == nil {
		return append(out, "no container named agent")
	}
	var dataDir string
	for i, a := range agent.Args {
		if a == "--data-dir" && i+1 < len(agent.Args) {
			dataDir = agent.Args[i+1]
		}
	}
	if len(agent.Args) == 0 || agent.Args[0] != "run" || dataDir == "" {
		bad("the agent container must run `run --data-dir DIR`, not %v", agent.Args)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range agent.VolumeMounts {
		mounts[m.MountPath] = m
	}
	if m, ok := mounts[dataDir]; !ok || !claims[m.Name] {
		bad("the data dir %s must be a persistent volume from volumeClaimTemplates", dataDir)
	}
	keyFile := ""
	for _, e := range agent.Env {
		if e.Name == "LOCKSTEP_MASTER_KEY" {
			bad("the master key must come from a Secret file (LOCKSTEP_MASTER_KEY_FILE), not an environment value")
		}
		if e.Name == "LOCKSTEP_MASTER_KEY_FILE" {
			keyFile = e.Value
		}
	}
	if keyFile == "" {
		bad("LOCKSTEP_MASTER_KEY_FILE is not set: the key would be written into the data volume")
	} else if m, ok := mounts[filepath.Dir(keyFile)]; !ok || !secrets[m.Name] || !m.ReadOnly {
		bad("the master key %s must be on a read-only Secret volume", keyFile)
	} else if filepath.Dir(keyFile) == dataDir {
		bad("the master key must not live in the data volume")
	}
	port := ""
	for _, p := range agent.Ports {
		if p.ContainerPort == 7443 {
			port = p.Name
		}
	}
	for name, p := range map[string]*corev1.Probe{"liveness": agent.LivenessProbe, "readiness": agent.ReadinessProbe} {
		switch {
		case p == nil || p.HTTPGet == nil:
			bad("%s probe must be an HTTP GET of /healthz", name)
		case p.HTTPGet.Path != "/healthz" || p.HTTPGet.Scheme != corev1.URISchemeHTTPS:
			bad("%s probe must GET https /healthz, not %s %s", name, p.HTTPGet.Scheme, p.HTTPGet.Path)
		case p.HTTPGet.Port.String() != port && p.HTTPGet.Port.String() != strconv.Itoa(7443):
			bad("%s probe must reach the agent's port 7443, not %s", name, p.HTTPGet.Port.String())
		}
	}
	return out
}

// subset reports whether every label of want is in have.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// TestChecksCatchMistakes: the checks find what they are for (a test that
// only passes good manifests would pass with no checks at all).
func TestChecksCatchMistakes(t *testing.T) {
	good := decode(t, "lockstep-agent.yaml")
	services := map[string]*corev1.Service{}
	var set *appsv1.StatefulSet
	for _, o := range good {
		switch o := o.(type) {
		case *corev1.Service:
			services[o.Name] = o
		case *appsv1.StatefulSet:
			set = o
		}
	}
	if p := checkAgent(set, services); len(p) > 0 {
		t.Fatalf("the shipped StatefulSet fails: %v", p)
	}
	two, short := int32(2), int64(5)
	for name, spoil := range map[string]func(s *appsv1.StatefulSet){
		"two replicas":      func(s *appsv1.StatefulSet) { s.Spec.Replicas = &two },
		"short grace":       func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.TerminationGracePeriodSeconds = &short },
		"no liveness probe": func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].LivenessProbe = nil },
		"key in the env": func(s *appsv1.StatefulSet) {
			c := &s.Spec.Template.Spec.Containers[0]
			c.Env = []corev1.EnvVar{{Name: "LOCKSTEP_MASTER_KEY", Value: "x"}}
		},
		"no volume claim": func(s *appsv1.StatefulSet) { s.Spec.VolumeClaimTemplates = nil },
	} {
		s := set.DeepCopy()
		spoil(s)
		if p := checkAgent(s, services); len(p) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	// Strict decoding refuses a misspelt field.
	var s appsv1.StatefulSet
	if err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  replica: 1\n"), &s); err == nil {
		t.Error("a misspelt field decoded")
	}
}
