package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one schema step. Steps are frozen once released: a change
// is a new step, never an edit.
type migration struct {
	version int
	name    string
	sql     string // dialect placeholders: {{id}}, {{ts}}
}

var migrations = []migration{
	{1, "core federation schema", `
CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE users (
	id {{id}},
	username TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE groups (
	id {{id}},
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	purpose TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT 'sv',
	website_url TEXT NOT NULL DEFAULT '',
	manual_approval BOOLEAN NOT NULL DEFAULT FALSE,
	discoverable BOOLEAN NOT NULL DEFAULT TRUE,
	private_key_pem TEXT NOT NULL,
	public_key_pem TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE remote_actors (
	id {{id}},
	iri TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	host TEXT NOT NULL,
	key_id TEXT NOT NULL DEFAULT '',
	public_key_pem TEXT NOT NULL DEFAULT '',
	inbox TEXT NOT NULL,
	shared_inbox TEXT NOT NULL DEFAULT '',
	preferred_username TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	raw TEXT NOT NULL DEFAULT '',
	fetched_at {{ts}} NOT NULL,
	gone_at {{ts}}
);
CREATE INDEX remote_actors_key_id ON remote_actors (key_id);
CREATE TABLE followers (
	id {{id}},
	group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	inbox TEXT NOT NULL,
	shared_inbox TEXT NOT NULL DEFAULT '',
	host TEXT NOT NULL,
	follow_iri TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	UNIQUE (group_id, actor_iri)
);
CREATE INDEX followers_group_state ON followers (group_id, state);
CREATE INDEX followers_actor ON followers (actor_iri);
CREATE TABLE posts (
	id {{id}},
	public_id TEXT NOT NULL UNIQUE,
	group_id BIGINT NOT NULL REFERENCES groups (id),
	author_user_id BIGINT REFERENCES users (id),
	source TEXT NOT NULL,
	content_html TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	published_at {{ts}} NOT NULL,
	edited_at {{ts}},
	deleted_at {{ts}},
	pinned_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX posts_group_published ON posts (group_id, published_at);
CREATE TABLE post_versions (
	id {{id}},
	post_id BIGINT NOT NULL REFERENCES posts (id),
	version INTEGER NOT NULL,
	source TEXT NOT NULL,
	content_html TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL,
	author_user_id BIGINT REFERENCES users (id),
	created_at {{ts}} NOT NULL,
	UNIQUE (post_id, version)
);
CREATE TABLE activities (
	id {{id}},
	iri TEXT NOT NULL UNIQUE,
	group_id BIGINT REFERENCES groups (id),
	type TEXT NOT NULL,
	object_iri TEXT NOT NULL DEFAULT '',
	in_outbox BOOLEAN NOT NULL DEFAULT FALSE,
	json TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX activities_outbox ON activities (group_id, in_outbox, id);
CREATE TABLE deliveries (
	id {{id}},
	activity_id BIGINT NOT NULL REFERENCES activities (id),
	inbox TEXT NOT NULL,
	host TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{ts}} NOT NULL,
	locked_until {{ts}},
	locked_by TEXT NOT NULL DEFAULT '',
	last_status INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_host ON deliveries (host, status);
CREATE TABLE inbox_items (
	id {{id}},
	activity_iri TEXT UNIQUE,
	group_id BIGINT REFERENCES groups (id),
	actor_iri TEXT NOT NULL,
	key_id TEXT NOT NULL DEFAULT '',
	type TEXT NOT NULL,
	raw TEXT NOT NULL,
	status TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{ts}} NOT NULL,
	locked_until {{ts}},
	locked_by TEXT NOT NULL DEFAULT '',
	received_at {{ts}} NOT NULL,
	processed_at {{ts}}
);
CREATE INDEX inbox_items_due ON inbox_items (status, next_attempt_at);
CREATE TABLE domains (
	host TEXT PRIMARY KEY,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	unreachable_since {{ts}},
	next_probe_at {{ts}},
	last_success_at {{ts}},
	last_seen_at {{ts}},
	updated_at {{ts}} NOT NULL
);
`},
	{2, "mentions of a post", `
ALTER TABLE posts ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE post_versions ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
`},
	{3, "staff accounts: sessions, sign-in throttling, TOTP, group staff, audit log", `
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at {{ts}} NOT NULL,
	last_seen_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	totp_passed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE login_attempts (
	id {{id}},
	at {{ts}} NOT NULL,
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	success BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
CREATE TABLE group_staff (
	group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_staff_user ON group_staff (user_id);
CREATE TABLE audit_log (
	id {{id}},
	at {{ts}} NOT NULL,
	user_id BIGINT,
	username TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
`},
	{4, "media: images attached to posts, group avatar and header", `
CREATE TABLE media (
	id {{id}},
	public_id TEXT NOT NULL UNIQUE,
	group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	uploader_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
	large_key TEXT NOT NULL,
	small_key TEXT NOT NULL,
	media_type TEXT NOT NULL,
	width INTEGER NOT NULL,
	height INTEGER NOT NULL,
	small_width INTEGER NOT NULL,
	small_height INTEGER NOT NULL,
	blurhash TEXT NOT NULL DEFAULT '',
	alt_text TEXT NOT NULL DEFAULT '',
	byte_size BIGINT NOT NULL,
	created_at {{ts}} NOT NULL,
	post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
	position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX media_post ON media (post_id, position);
CREATE INDEX media_group_uploader ON media (group_id, uploader_user_id);
ALTER TABLE posts ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
ALTER TABLE post_versions ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN avatar_media_id BIGINT REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE groups ADD COLUMN avatar_alt TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN header_media_id BIGINT REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE groups ADD COLUMN header_alt TEXT NOT NULL DEFAULT '';
`},
	// Drafts and scheduled posts live in their own table, not in posts: a
	// query on posts (pages, outbox, feeds, featured, counts, object URLs)
	// cannot leak an unpublished text by forgetting a WHERE clause. A draft
	// becomes a post only through federation.Service's publish path, in the
	// transaction that marks the draft published (state, post_id).
	// Groups get the owning unit (app start fills it with the instance's
	// organisation for groups created before), profile fields (JSON name/
	// value pairs) and staff marked responsible.
	{5, "drafts and scheduled posts; group owning unit, profile fields, responsible staff", `
CREATE TABLE drafts (
	id {{id}},
	public_id TEXT NOT NULL UNIQUE,
	group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	author_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
	state TEXT NOT NULL,
	source TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT '',
	scheduled_at {{ts}},
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	locked_until {{ts}},
	locked_by TEXT NOT NULL DEFAULT '',
	post_id BIGINT REFERENCES posts (id),
	media TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX drafts_due ON drafts (state, scheduled_at);
CREATE INDEX drafts_group ON drafts (group_id, state);
ALTER TABLE groups ADD COLUMN owning_unit TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN fields TEXT NOT NULL DEFAULT '';
ALTER TABLE group_staff ADD COLUMN responsible BOOLEAN NOT NULL DEFAULT FALSE;
`},
	{6, "interface language of staff accounts", `
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
`},
	{7, "residents' conversations: remote notes, their announces, reactions, discussion modes", `
ALTER TABLE groups ADD COLUMN discussion_mode TEXT NOT NULL DEFAULT 'announcements';
ALTER TABLE posts ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
CREATE TABLE remote_notes (
	id {{id}},
	iri TEXT NOT NULL UNIQUE,
	group_id BIGINT NOT NULL REFERENCES groups (id),
	type TEXT NOT NULL,
	author_iri TEXT NOT NULL,
	author_host TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	in_reply_to TEXT NOT NULL DEFAULT '',
	root_iri TEXT NOT NULL DEFAULT '',
	post_id BIGINT REFERENCES posts (id),
	depth INTEGER NOT NULL DEFAULT 0,
	summary TEXT NOT NULL DEFAULT '',
	content_html TEXT NOT NULL,
	language TEXT NOT NULL DEFAULT '',
	sensitive BOOLEAN NOT NULL DEFAULT FALSE,
	attachments TEXT NOT NULL DEFAULT '[]',
	replies_iri TEXT NOT NULL DEFAULT '',
	via TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	verdict TEXT NOT NULL DEFAULT '',
	matches TEXT NOT NULL DEFAULT '[]',
	raw TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	published_at {{ts}} NOT NULL,
	edited_at {{ts}},
	deleted_at {{ts}},
	announced_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX remote_notes_group_state ON remote_notes (group_id, state, id);
CREATE INDEX remote_notes_in_reply_to ON remote_notes (in_reply_to);
CREATE INDEX remote_notes_root ON remote_notes (root_iri);
CREATE INDEX remote_notes_author ON remote_notes (author_iri);
CREATE TABLE note_announces (
	id {{id}},
	note_id BIGINT NOT NULL REFERENCES remote_notes (id),
	activity_iri TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX note_announces_note ON note_announces (note_id);
CREATE TABLE reactions (
	id {{id}},
	activity_iri TEXT NOT NULL UNIQUE,
	group_id BIGINT NOT NULL REFERENCES groups (id),
	object_iri TEXT NOT NULL,
	actor_iri TEXT NOT NULL,
	type TEXT NOT NULL,
	content TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	UNIQUE (object_iri, actor_iri, type, content)
);
CREATE INDEX reactions_object ON reactions (object_iri, type);
`},
	{8, "moderation: versioned rules, domain policies, decisions, account blocks, reports, appeals", `
CREATE TABLE mod_rules (
	id {{id}},
	rule_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	group_id BIGINT REFERENCES groups (id),
	kind TEXT NOT NULL,
	text TEXT NOT NULL,
	action TEXT NOT NULL,
	legal_ground TEXT NOT NULL,
	pattern TEXT NOT NULL DEFAULT '',
	lim INTEGER NOT NULL DEFAULT 0,
	window_seconds BIGINT NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	retired_at {{ts}},
	UNIQUE (rule_id, version)
);
CREATE INDEX mod_rules_current ON mod_rules (retired_at, group_id);
CREATE TABLE domain_policies (
	host TEXT PRIMARY KEY,
	policy TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE mod_decisions (
	id {{id}},
	group_id BIGINT REFERENCES groups (id),
	action TEXT NOT NULL,
	state TEXT NOT NULL,
	object_iri TEXT NOT NULL DEFAULT '',
	author_iri TEXT NOT NULL DEFAULT '',
	author_handle TEXT NOT NULL DEFAULT '',
	rule_id TEXT NOT NULL DEFAULT '',
	rule_version INTEGER NOT NULL DEFAULT 0,
	legal_ground TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	automatic BOOLEAN NOT NULL DEFAULT FALSE,
	moderator_id BIGINT REFERENCES users (id),
	moderator_name TEXT NOT NULL DEFAULT '',
	approver_id BIGINT REFERENCES users (id),
	approver_name TEXT NOT NULL DEFAULT '',
	ends_at {{ts}},
	appeal_id BIGINT,
	notice_iri TEXT NOT NULL DEFAULT '',
	appeal_token TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	effective_at {{ts}}
);
CREATE INDEX mod_decisions_group ON mod_decisions (group_id, id);
CREATE INDEX mod_decisions_object ON mod_decisions (object_iri);
CREATE TABLE mod_blocks (
	id {{id}},
	group_id BIGINT REFERENCES groups (id),
	actor_iri TEXT NOT NULL,
	decision_id BIGINT NOT NULL REFERENCES mod_decisions (id),
	starts_at {{ts}} NOT NULL,
	ends_at {{ts}} NOT NULL,
	lifted_at {{ts}}
);
CREATE INDEX mod_blocks_actor ON mod_blocks (actor_iri, ends_at);
CREATE TABLE mod_reports (
	id {{id}},
	group_id BIGINT REFERENCES groups (id),
	object_iri TEXT NOT NULL,
	category TEXT NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	reporter_iri TEXT NOT NULL DEFAULT '',
	origin TEXT NOT NULL,
	flag_iri TEXT UNIQUE,
	created_at {{ts}} NOT NULL,
	resolved_at {{ts}},
	decision_id BIGINT REFERENCES mod_decisions (id)
);
CREATE INDEX mod_reports_open ON mod_reports (resolved_at, created_at);
CREATE TABLE mod_appeals (
	id {{id}},
	decision_id BIGINT NOT NULL REFERENCES mod_decisions (id),
	text TEXT NOT NULL,
	from_iri TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	outcome TEXT NOT NULL DEFAULT '',
	decided_by TEXT NOT NULL DEFAULT '',
	decided_at {{ts}},
	outcome_decision_id BIGINT REFERENCES mod_decisions (id)
);
CREATE INDEX inbox_items_actor ON inbox_items (actor_iri, received_at);
`},
	{9, "append-only record with a hash chain, legal holds, archive exports, closed groups", `
CREATE TABLE record_entries (
	seq BIGINT PRIMARY KEY,
	at {{ts}} NOT NULL,
	kind TEXT NOT NULL,
	category TEXT NOT NULL,
	direction TEXT NOT NULL,
	group_id BIGINT,
	actor TEXT NOT NULL DEFAULT '',
	object_iri TEXT NOT NULL DEFAULT '',
	origin TEXT NOT NULL DEFAULT '',
	verified BOOLEAN NOT NULL DEFAULT FALSE,
	ref TEXT NOT NULL DEFAULT '',
	payload TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	entry_hash TEXT NOT NULL UNIQUE
);
CREATE INDEX record_entries_at ON record_entries (at);
CREATE INDEX record_entries_group_at ON record_entries (group_id, at);
CREATE INDEX record_entries_category_at ON record_entries (category, at);
CREATE INDEX record_entries_object ON record_entries (object_iri);
CREATE INDEX record_entries_ref ON record_entries (ref);
CREATE TABLE record_holds (
	id {{id}},
	entry_seq BIGINT,
	object_iri TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	released_at {{ts}},
	released_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX record_holds_entry ON record_holds (entry_seq);
CREATE INDEX record_holds_object ON record_holds (object_iri);
CREATE TABLE archive_exports (
	id {{id}},
	package_id TEXT NOT NULL UNIQUE,
	group_id BIGINT,
	period_from {{ts}} NOT NULL,
	period_to {{ts}} NOT NULL,
	sha256 TEXT NOT NULL,
	files INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL
);
CREATE INDEX archive_exports_group ON archive_exports (group_id, created_at);
ALTER TABLE groups ADD COLUMN closed_at {{ts}};
ALTER TABLE groups ADD COLUMN closed_export_id BIGINT;
`},
	{10, "cases: questions to groups, append-only staff notes, queue reviews, group contact info", `
CREATE TABLE cases (
	id {{id}},
	group_id BIGINT REFERENCES groups (id),
	kind TEXT NOT NULL,
	source_iri TEXT NOT NULL DEFAULT '',
	source_url TEXT NOT NULL DEFAULT '',
	author_iri TEXT NOT NULL DEFAULT '',
	author_handle TEXT NOT NULL DEFAULT '',
	requester_contact TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL,
	language TEXT NOT NULL DEFAULT '',
	public BOOLEAN NOT NULL DEFAULT FALSE,
	status TEXT NOT NULL,
	owner_user_id BIGINT REFERENCES users (id),
	due_at {{ts}} NOT NULL,
	received_at {{ts}} NOT NULL,
	answered_at {{ts}},
	answer_iri TEXT NOT NULL DEFAULT '',
	answer_text TEXT NOT NULL DEFAULT '',
	forwarded_to TEXT NOT NULL DEFAULT '',
	forward_reason TEXT NOT NULL DEFAULT '',
	forwarded_from BIGINT REFERENCES cases (id),
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX cases_group_source ON cases (group_id, source_iri) WHERE source_iri <> '';
CREATE INDEX cases_status_due ON cases (status, due_at);
CREATE INDEX cases_author ON cases (author_iri);
CREATE TABLE case_notes (
	id {{id}},
	case_id BIGINT NOT NULL REFERENCES cases (id),
	author_user_id BIGINT REFERENCES users (id),
	author_name TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, id);
CREATE TABLE queue_reviews (
	id {{id}},
	group_id BIGINT REFERENCES groups (id),
	user_id BIGINT REFERENCES users (id),
	username TEXT NOT NULL,
	at {{ts}} NOT NULL
);
CREATE INDEX queue_reviews_group_at ON queue_reviews (group_id, at);
CREATE TABLE group_contact (
	group_id BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
	staffed_hours TEXT NOT NULL DEFAULT '',
	response_time TEXT NOT NULL DEFAULT '',
	channels TEXT NOT NULL DEFAULT '',
	updated_at {{ts}} NOT NULL
);
`},
	{11, "staff e-mail addresses and the notifications outbox", `
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE TABLE notifications (
	id {{id}},
	dedupe_key TEXT NOT NULL,
	recipient_key TEXT NOT NULL,
	address TEXT NOT NULL DEFAULT '',
	user_id BIGINT REFERENCES users (id),
	locale TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	group_id BIGINT REFERENCES groups (id),
	ref TEXT NOT NULL DEFAULT '',
	params TEXT NOT NULL DEFAULT '{}',
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{ts}} NOT NULL,
	locked_until {{ts}},
	locked_by TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	sent_at {{ts}},
	UNIQUE (dedupe_key, recipient_key)
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
CREATE INDEX notifications_created ON notifications (created_at);
`},
	// 15 is assigned to another change; versions need not be contiguous.
	{12, "erasure requests (PRV-5): decisions on removal from public view or pseudonymisation", `
CREATE TABLE erasure_requests (
	id {{id}},
	subject_iri TEXT NOT NULL,
	handle TEXT NOT NULL DEFAULT '',
	requester_contact TEXT NOT NULL DEFAULT '',
	request_text TEXT NOT NULL,
	status TEXT NOT NULL,
	pseudonym TEXT NOT NULL DEFAULT '',
	legal_ground TEXT NOT NULL DEFAULT '',
	reasons TEXT NOT NULL DEFAULT '',
	answer_text TEXT NOT NULL DEFAULT '',
	answer_iri TEXT NOT NULL DEFAULT '',
	group_id BIGINT REFERENCES groups (id),
	created_by TEXT NOT NULL,
	decided_by TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	decided_at {{ts}},
	updated_at {{ts}} NOT NULL
);
CREATE INDEX erasure_requests_subject ON erasure_requests (subject_iri, status);
`},
	{13, "moderation governance: proposed rule versions approved by a second administrator, ban review dates", `
ALTER TABLE mod_rules ADD COLUMN status TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE mod_rules ADD COLUMN justification TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_rules ADD COLUMN created_by_id BIGINT REFERENCES users (id);
ALTER TABLE mod_rules ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_rules ADD COLUMN decided_by_id BIGINT REFERENCES users (id);
ALTER TABLE mod_rules ADD COLUMN decided_at {{ts}};
ALTER TABLE mod_rules ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
CREATE INDEX mod_rules_status ON mod_rules (status, rule_id);
ALTER TABLE mod_decisions ADD COLUMN review_at {{ts}};
CREATE INDEX mod_decisions_review ON mod_decisions (action, review_at);
CREATE INDEX mod_reports_resolved ON mod_reports (resolved_at, category);
`},
	{14, "scheduled yearly archive exports: one run per group and period, leased", `
CREATE TABLE archive_runs (
	id {{id}},
	group_id BIGINT NOT NULL,
	period_from {{ts}} NOT NULL,
	period_to {{ts}} NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at {{ts}} NOT NULL,
	locked_by TEXT NOT NULL DEFAULT '',
	locked_until {{ts}},
	last_error TEXT NOT NULL DEFAULT '',
	export_id BIGINT,
	package_id TEXT NOT NULL DEFAULT '',
	sha256 TEXT NOT NULL DEFAULT '',
	path TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	UNIQUE (group_id, period_from, period_to)
);
CREATE INDEX archive_runs_due ON archive_runs (state, next_at);
`},
	// 15 is another branch's number.
	{16, "languages staff read (SVC-8); the auto-reply outside staffed hours (SVC-2)", `
ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '';
ALTER TABLE group_contact ADD COLUMN auto_reply BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE group_contact ADD COLUMN open_hours TEXT NOT NULL DEFAULT '';
CREATE TABLE auto_replies (
	id {{id}},
	group_id BIGINT NOT NULL REFERENCES groups(id),
	conversation TEXT NOT NULL,
	case_id BIGINT,
	sent_at {{ts}} NOT NULL,
	UNIQUE (group_id, conversation)
);
`},
}

// Migrate applies every migration not yet applied, each in its own
// transaction. It is safe to run concurrently from several processes:
// PostgreSQL takes an advisory lock, SQLite's immediate transactions
// serialise.
func (s *Store) Migrate(ctx context.Context) error {
	defer s.write()()
	db := s.wctx(ctx)
	if err := db.Exec(s.dialect(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at {{ts}} NOT NULL)`)).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		err := db.Transaction(func(tx *gorm.DB) error {
			if s.driver == "postgres" {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(7413001)").Error; err != nil {
					return err
				}
			}
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitSQL(s.dialect(m.sql)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), err)
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.ctx(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error
	if err != nil || v == nil {
		return 0, err
	}
	return *v, nil
}

// LatestSchemaVersion is the version Migrate brings a database to.
func LatestSchemaVersion() int { return migrations[len(migrations)-1].version }

func (s *Store) dialect(q string) string {
	if s.driver == "postgres" {
		return strings.NewReplacer("{{id}}", "BIGSERIAL PRIMARY KEY", "{{ts}}", "TIMESTAMPTZ").Replace(q)
	}
	return strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "DATETIME").Replace(q)
}

func splitSQL(q string) []string {
	var out []string
	for _, s := range strings.Split(q, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
