package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// The web side: a logged-out visitor reports a held reply (201, in the
// queue); the queue shows it with the report next to it, only to
// moderators; decisions need a rule and a reason; rules are versioned and
// published.
func TestModerationQueueWeb(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "forhand", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "forhand", store.ModeModerated); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/forhand"
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "forhand", federation.PostInput{Text: "Frågor om förskolan?"})
	if err != nil {
		t.Fatal(err)
	}
	note := b.Note("bertil", "q1", postURL, "<p>Reklam: köp billiga klockor</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note))
	n, err := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	if err != nil || n.State != store.NoteHeld {
		t.Fatalf("reply not held: %+v %v", n, err)
	}

	// MOD-1: anyone may report, without an account.
	anon := newBrowser(t, tg)
	resp, body := anon.form("/report?object="+url.QueryEscape(n.IRI), "/report", url.Values{"object": {n.IRI}, "category": {"villkor-spam"}, "comment": {"Reklam"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "Tack") {
		t.Fatalf("report: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := anon.form("/report", "/report", url.Values{"object": {n.IRI}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("report without category: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, tg).post("/report", url.Values{"object": {n.IRI}, "category": {"olaga-hot"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("report without token: %d", resp.StatusCode)
	}
	if rs, _ := tg.Store.OpenReports(ctx, 10); len(rs) != 1 || rs[0].Origin != "web" || rs[0].ReporterIRI != "" {
		t.Fatalf("reports %+v", rs)
	}

	// Only moderators see the queue.
	tg.user(t, "redaktor", store.RoleEditor)
	ed := newBrowser(t, tg)
	ed.login("redaktor", testPassword)
	if resp, _ := ed.get("/staff/moderation"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("editor sees the queue: %d", resp.StatusCode)
	}
	tg.user(t, "moderator", store.RoleModerator)
	mod := newBrowser(t, tg)
	mod.login("moderator", testPassword)
	resp, body = mod.get("/staff/moderation")
	if resp.StatusCode != 200 || !strings.Contains(body, "köp billiga klockor") || !strings.Contains(body, "Anmälan (villkor-spam) från web") {
		t.Fatalf("queue: %d %.500s", resp.StatusCode, body)
	}
	// GOV-2: no reason, no decision; then remove with rule and reason.
	id := itoa(n.ID)
	if resp, body := mod.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {id}, "action": {"remove"}, "rule": {"villkor-spam"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "motivering") {
		t.Fatalf("decision without reason: %d", resp.StatusCode)
	}
	if resp, _ := mod.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {id}, "action": {"remove"}, "rule": {"ingen-sadan"}, "reason": {"x"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("decision with an unknown rule: %d", resp.StatusCode)
	}
	resp, body = mod.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {id}, "action": {"remove"}, "rule": {"villkor-spam"}, "reason": {"Reklam för klockor"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d %.300s", resp.StatusCode, body)
	}
	if n, _ := tg.Store.RemoteNoteByIRI(ctx, n.IRI); n.State != store.NoteRejected {
		t.Fatalf("state after removal: %s", n.State)
	}
	if rs, _ := tg.Store.OpenReports(ctx, 10); len(rs) != 0 {
		t.Fatalf("report not resolved by the decision")
	}
	if tg.auditActions(t)["mod_remove moderator"] != 1 {
		t.Fatalf("removal not audited: %v", tg.auditActions(t))
	}
	// Rules: administrators only; a ground is required; a change is a new version.
	if resp, _ := mod.get("/staff/moderation/rules"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("moderator edits rules: %d", resp.StatusCode)
	}
	tg.user(t, "admin", store.RoleAdmin)
	adm := newBrowser(t, tg)
	adm.login("admin", testPassword)
	rule := url.Values{"id": {"spam-ord"}, "text": {"Ingen reklam för klockor"}, "kind": {"words"}, "rule_action": {"hold"}, "pattern": {"klockor"}}
	if resp, _ := adm.form("/staff/moderation/rules", "/staff/moderation/rules", rule); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("rule without ground: %d", resp.StatusCode)
	}
	rule.Set("ground", "villkor-spam")
	// GOV-3: a written justification is required.
	if resp, body := adm.form("/staff/moderation/rules", "/staff/moderation/rules", rule); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Skriv en motivering") {
		t.Fatalf("rule without justification: %d", resp.StatusCode)
	}
	rule.Set("justification", "Massutskick om klockor; villkoren förbjuder reklam")
	tg.user(t, "admin2", store.RoleAdmin)
	adm2 := newBrowser(t, tg)
	adm2.login("admin2", testPassword)
	for i := 0; i < 2; i++ {
		if resp, body := adm.form("/staff/moderation/rules", "/staff/moderation/rules", rule); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("propose rule: %d %.300s", resp.StatusCode, body)
		}
		ps, err := tg.Store.ProposedRules(ctx)
		if err != nil || len(ps) != 1 || ps[0].Status != store.RuleProposed || ps[0].Version != i+1 {
			t.Fatalf("proposals: %+v %v", ps, err)
		}
		approve := "/staff/moderation/rules/proposals/" + itoa(ps[0].ID) + "/approve"
		if i == 0 {
			// Not in force yet: not on the published page, not screening.
			if _, body := adm.get("/about/rules"); strings.Contains(body, "Ingen reklam för klockor") {
				t.Fatal("proposed rule published before approval")
			}
			if cur, _ := tg.Store.AllCurrentRules(ctx); hasRule(cur, "spam-ord") {
				t.Fatal("proposed rule in force before approval")
			}
			// The proposer may not approve.
			resp, body := adm.form("/staff/moderation/rules", approve, url.Values{})
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "En annan administratör måste godkänna") {
				t.Fatalf("self-approval: %d %.300s", resp.StatusCode, body)
			}
		}
		if resp, body := adm2.form("/staff/moderation/rules", approve, url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d %.300s", resp.StatusCode, body)
		}
		rule.Set("text", "Ingen reklam för klockor eller ur")
	}
	if cur, _ := tg.Store.AllCurrentRules(ctx); !hasRule(cur, "spam-ord") {
		t.Fatal("approved rule not in force")
	}
	if a := tg.auditActions(t); a["rule_propose admin"] != 2 || a["rule_approve admin2"] != 2 {
		t.Fatalf("rule steps not audited: %v", a)
	}
	if recs, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindRuleChange}); err != nil || len(recs) != 4 {
		t.Fatalf("rule steps in the record: %d %v", len(recs), err)
	}
	_, body = adm.get("/about/rules")
	if !strings.Contains(body, "Ingen reklam för klockor eller ur") || !strings.Contains(body, "Tidigare versioner") || !strings.Contains(body, "BrB 16 kap. 8 §") {
		t.Fatalf("rules page: %.1000s", body)
	}
	// The new rule screens the next reply at once (the cache was invalidated).
	note2 := b.Note("bertil", "q2", postURL, "<p>Fler KLOCKOR</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note2))
	if n2, err := tg.Store.RemoteNoteByIRI(ctx, note2["id"].(string)); err != nil || !strings.Contains(n2.Matches, `"spam-ord"`) {
		t.Fatalf("new rule not applied: %+v %v", n2, err)
	}
}

func hasRule(rs []store.ModRule, id string) bool {
	for _, r := range rs {
		if r.RuleID == id {
			return true
		}
	}
	return false
}
