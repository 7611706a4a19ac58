package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The example file documents the defaults: it must load and equal them.
func TestExampleMatchesDefaults(t *testing.T) {
	got, err := Load("../../config.example.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config.example.toml differs from Default():\n got %+v\nwant %+v", got, want)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	c, err := Load("", []string{
		"TORGET_DATABASE_URL=postgres://postgres@127.0.0.1/test",
		"TORGET_FEDERATION_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8, ::1/128",
		"TORGET_FEDERATION_REQUEST_TIMEOUT=3s",
		"TORGET_SERVER_DOMAIN=social.example.se",
		"TORGET_DELIVERY_WORKERS=7",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "postgres://postgres@127.0.0.1/test" || c.Federation.RequestTimeout.Duration != 3*time.Second ||
		c.Delivery.Workers != 7 || len(c.Federation.AllowPrivateNetworks) != 2 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.Server.BaseURL != "https://social.example.se" {
		t.Fatalf("base_url = %q, want https://social.example.se", c.Server.BaseURL)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct{ name, toml, want string }{
		{"unknown key", "[server]\ndomian = \"x\"\n", "unknown key"},
		{"bad database", "[database]\nurl = \"mysql://x\"\n", "database.url"},
		{"bad cidr", "[federation]\nallow_private_networks = [\"10.0.0.0/33\"]\n", "allow_private_networks"},
		{"base url host differs", "[server]\ndomain = \"a.example\"\nbase_url = \"https://b.example\"\n", "must equal server.domain"},
		{"base url with path", "[server]\ndomain = \"a.example\"\nbase_url = \"https://a.example/x\"\n", "no path"},
		{"tls half", "[server]\ntls_cert = \"c.pem\"\n", "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.toml")
			if err := os.WriteFile(p, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestOIDCConfig(t *testing.T) {
	c, err := Load("", []string{"TORGET_SERVER_DOMAIN=social.example.se", "TORGET_OIDC_ISSUER=https://idp.example.se/realms/city",
		"TORGET_OIDC_CLIENT_ID=torget", "TORGET_OIDC_CLIENT_SECRET=s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.OIDC.Enabled() || c.OIDC.RedirectURL != "https://social.example.se/login/oidc/callback" ||
		c.OIDC.UsernameClaim != "preferred_username" || c.OIDC.ClientSecret != "s3cret" {
		t.Fatalf("oidc = %+v", c.OIDC)
	}
	if d := Default(); d.OIDC.Enabled() {
		t.Fatal("OIDC on by default")
	}
	for _, tt := range []struct{ env, want string }{
		{"TORGET_OIDC_ISSUER=http://idp.example.se", "must be an https URL"},
		{"TORGET_OIDC_SCOPES=profile,email", `must include "openid"`},
		{"TORGET_OIDC_CLIENT_ID=", "client_id is required"},
		{"TORGET_OIDC_USERNAME_CLAIM=", "username_claim"},
	} {
		env := []string{"TORGET_OIDC_ISSUER=https://idp.example.se", "TORGET_OIDC_CLIENT_ID=torget", tt.env}
		if _, err := Load("", env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.env, err, tt.want)
		}
	}
}

// The privacy notice and the accessibility statement must be complete: an
// empty field stops start-up with a message naming it.
func TestPublicPagesRequired(t *testing.T) {
	for _, tt := range []struct{ env, want string }{
		{"TORGET_PRIVACY_CONTROLLER=", "privacy.controller is required"},
		{"TORGET_PRIVACY_DPO= ", "privacy.dpo is required"},
		{"TORGET_PRIVACY_RECIPIENTS=", "privacy.recipients is required"},
		{"TORGET_ACCESSIBILITY_METHOD=", "accessibility.method is required"},
		{"TORGET_ACCESSIBILITY_SUPERVISOR_URL=", "accessibility.supervisor_url is required"},
		{"TORGET_ACCESSIBILITY_STATUS=ok", "accessibility.status"},
		{"TORGET_ACCESSIBILITY_ASSESSED_ON=igår", "must be a date"},
		{"TORGET_CASES_SUPERVISION_DAYS=8", "at most 7"},
		{"TORGET_CASES_AUTHORITIES=Skatteverket", "Name|https"},
	} {
		if _, err := Load("", []string{tt.env}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.env, err, tt.want)
		}
	}
	c, err := Load("", []string{"TORGET_CASES_AUTHORITIES=Skatteverket|https://www.skatteverket.se/, Polisen|https://polisen.se/"})
	if err != nil || len(c.Cases.Authorities) != 2 {
		t.Fatalf("authorities %v, %v", c.Cases.Authorities, err)
	}
}

func TestRetentionRules(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/c.toml"
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[[retention]]\ncategory = \"inbound.like\"\nperiod = \"1y\"\ndecision = \"SSA-2026:12\"\n\n[[retention]]\ncategory = \"audit.login\"\nperiod = \"90d\"\ndecision = \"SSA-2026:13\"\n")
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Retention) != 2 || c.Retention[0].Decision != "SSA-2026:12" {
		t.Fatalf("retention = %+v", c.Retention)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if cut, _ := c.Retention[0].Cutoff(now); !cut.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("1y cutoff = %v", cut)
	}
	if cut, _ := c.Retention[1].Cutoff(now); !cut.Equal(now.AddDate(0, 0, -90)) {
		t.Fatalf("90d cutoff = %v", cut)
	}
	for _, bad := range []string{
		"[[retention]]\ncategory = \"x\"\nperiod = \"1y\"\n",
		"[[retention]]\ncategory = \"x\"\nperiod = \"soon\"\ndecision = \"D\"\n",
		"[[retention]]\nperiod = \"1y\"\ndecision = \"D\"\n",
	} {
		write(bad)
		if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "retention rule 1") {
			t.Fatalf("%q: got %v, want a retention rule error", bad, err)
		}
	}
}
