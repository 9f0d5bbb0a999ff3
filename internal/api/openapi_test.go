package api_test

import (
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/api"
)

// openAPI is the part of docs/api/openapi.yaml the test reads.
type openAPI struct {
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Parameters map[string]parameter `yaml:"parameters"`
	} `yaml:"components"`
}

type operation struct {
	Description string               `yaml:"description"`
	Parameters  []parameter          `yaml:"parameters"`
	Responses   map[string]yaml.Node `yaml:"responses"`
}

type parameter struct {
	Ref     string    `yaml:"$ref"`
	Name    string    `yaml:"name"`
	In      string    `yaml:"in"`
	Example yaml.Node `yaml:"example"`
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	data, err := os.ReadFile("../../docs/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// resolve follows a parameter's $ref.
func (d openAPI) resolve(t *testing.T, p parameter) parameter {
	t.Helper()
	if p.Ref == "" {
		return p
	}
	name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
	q, ok := d.Components.Parameters[name]
	if !ok {
		t.Fatalf("dangling $ref %s", p.Ref)
	}
	return q
}

// The description and the server agree: the same routes, roles and query
// parameters, and every documented example is accepted.
func TestOpenAPIMatchesServer(t *testing.T) {
	doc := loadOpenAPI(t)
	st, _ := storeWith(t)
	e := start(t, func(_ *api.Config, opt *api.Options) {
		fullOptions(opt)
		opt.Alerts = st
	})
	admin := e.token(api.RoleAdmin)

	served := map[string]api.RouteInfo{}
	for _, rt := range e.srv.Routes() {
		served[rt.Method+" "+rt.Path] = rt
	}
	documented := map[string]operation{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	for k := range served {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is served but not in openapi.yaml", k)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			t.Errorf("openapi.yaml describes %s, which the server does not serve", k)
		}
	}

	for k, op := range documented {
		rt, ok := served[k]
		if !ok {
			continue
		}
		wantRole := "Needs a read or admin token"
		if rt.Role == api.RoleAdmin {
			wantRole = "Needs an admin token"
		}
		if !strings.Contains(op.Description, wantRole) {
			t.Errorf("%s: the description does not say %q", k, wantRole)
		}
		for _, code := range []string{"401", "403"} {
			if _, ok := op.Responses[code]; !ok {
				t.Errorf("%s: no %s response documented", k, code)
			}
		}
		path := strings.NewReplacer("{id}", "300001").Replace(rt.Path)
		if strings.HasPrefix(rt.Path, "/api/v1/alerts/{id}") {
			path = strings.Replace(rt.Path, "{id}", "0123456789abcdef", 1)
		}
		var docParams []string
		for _, p := range op.Parameters {
			p = doc.resolve(t, p)
			if p.In != "query" {
				continue
			}
			docParams = append(docParams, p.Name)
			// The documented example is a valid value.
			var vals []string
			switch p.Example.Kind {
			case yaml.ScalarNode:
				vals = []string{p.Example.Value}
			case yaml.SequenceNode:
				for _, n := range p.Example.Content {
					vals = append(vals, n.Value)
				}
			}
			if len(vals) == 0 {
				continue
			}
			q := url.Values{p.Name: vals}
			if r := e.do(rt.Method, path+"?"+q.Encode(), "Bearer "+admin, "application/json", strings.NewReader(`{"event":"x"}`)); r.status != http.StatusOK && r.status != http.StatusNotFound {
				t.Errorf("%s with the documented example %s: %d %s", k, q.Encode(), r.status, r.body)
			}
		}
		// The server lists the parameters it knows when given one it does not.
		r := e.do(rt.Method, path+"?zz_undocumented=1", "Bearer "+admin, "application/json", strings.NewReader(`{"event":"x"}`))
		msg := r.errorText(t)
		var known []string
		if _, list, ok := strings.Cut(msg, "(known: "); ok {
			known = strings.Split(strings.TrimSuffix(list, ")"), ", ")
		} else if !strings.Contains(msg, "takes none") {
			t.Errorf("%s: unexpected answer to an unknown parameter: %s", k, msg)
		}
		sort.Strings(known)
		sort.Strings(docParams)
		if strings.Join(known, ",") != strings.Join(docParams, ",") {
			t.Errorf("%s: the server takes query parameters %v, openapi.yaml documents %v", k, known, docParams)
		}
	}
}
