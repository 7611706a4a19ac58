package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The record (REC-1, REC-2, MOD-4, REC-10): an append-only table of
// everything torget published, received or decided, linked by a SHA-256
// hash chain so that an edited or removed row shows. This file has no
// UPDATE or DELETE of record rows; only gallring.go deletes them, under a
// retention decision (TestNoDeleteOutsideGallring).

// Record directions: inkommen (received), upprättad (drawn up and sent),
// internal (a decision or staff action that is not sent anywhere).
const (
	DirIn       = "in"
	DirOut      = "out"
	DirInternal = "internal"
)

// Record kinds. Engineers adding a record source add a kind here.
const (
	KindPostCreate     = "post.create"
	KindPostUpdate     = "post.update"
	KindPostDelete     = "post.delete"
	KindPostPin        = "post.pin"
	KindPostUnpin      = "post.unpin"
	KindInbound        = "inbound.activity"
	KindGroupCreate    = "group.create"
	KindGroupUpdate    = "group.update"
	KindGroupClose     = "group.close"
	KindModeration     = "moderation.decision"
	KindBlock          = "block"
	KindDomainPolicy   = "domain_policy"
	KindRuleChange     = "rule_change"
	KindAudit          = "audit"
	KindHold           = "hold"
	KindHoldRelease    = "hold.release"
	KindArchiveExport  = "archive.export"
	KindGallring       = "gallring"
	KindErasure        = "privacy.erasure"
	KindPrivacySweep   = "privacy.sweep"
	recordHashVersion  = "torget-record-v1"
	recordGenesisHash  = "0000000000000000000000000000000000000000000000000000000000000000"
	recordAdvisoryLock = 7413009
)

// RecordEntry is one row of the record. Fill Kind, Direction, Payload and
// what applies of GroupID, Actor, ObjectIRI, Origin, Verified, Ref and
// Category; AppendRecord sets Seq, At (unless set), ContentHash, PrevHash
// and EntryHash.
type RecordEntry struct {
	Seq         int64 `gorm:"primaryKey;autoIncrement:false"`
	At          time.Time
	Kind        string
	Category    string // what retention rules match; Kind when empty (inbound: "inbound.<type>")
	Direction   string // DirIn, DirOut or DirInternal
	GroupID     *int64
	Actor       string // remote actor IRI, or "user:ID:NAME" for staff: internal, never public
	ObjectIRI   string `gorm:"column:object_iri"`
	Origin      string // origin host of an inbound item
	Verified    bool   // the HTTP signature of an inbound item was verified
	Ref         string // idempotency key, e.g. "inbox:42": a second append with the same ref is a no-op
	Payload     string // JSON: the ActivityStreams form sent or received, or the decision
	ContentHash string
	PrevHash    string
	EntryHash   string
}

// TableName is record_entries.
func (RecordEntry) TableName() string { return "record_entries" }

// RecordHold is a legal hold (REC-6) on one entry or on every entry about
// one object IRI. Gallring skips held entries.
type RecordHold struct {
	ID         int64
	EntrySeq   *int64
	ObjectIRI  string `gorm:"column:object_iri"`
	Reason     string
	CreatedBy  string
	CreatedAt  time.Time
	ReleasedAt *time.Time
	ReleasedBy string
}

// TableName is record_holds.
func (RecordHold) TableName() string { return "record_holds" }

type recordActorKey struct{}

// WithRecordActor returns ctx carrying who acts, for record entries made
// below it (a staff request: "user:ID:NAME"; the CLI: "cli:NAME").
func WithRecordActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, recordActorKey{}, actor)
}

// RecordActor is the actor set with WithRecordActor, or "".
func RecordActor(ctx context.Context) string {
	a, _ := ctx.Value(recordActorKey{}).(string)
	return a
}

// StaffActor is the record's actor string for a staff user.
func StaffActor(id int64, username string) string {
	return "user:" + strconv.FormatInt(id, 10) + ":" + username
}

// AppendRecord appends e to the record. Call it with the transaction's
// Store (tx) so the entry commits or rolls back with the change it
// records; outside a transaction it opens one. Appends are serialised (the
// SQLite write lock; a PostgreSQL advisory lock across nodes), so the
// chain is linear. A non-empty Ref that is already recorded makes the call
// a no-op that loads the existing entry into e.
func (s *Store) AppendRecord(ctx context.Context, e *RecordEntry) error {
	return s.AppendRecords(ctx, []*RecordEntry{e})
}

// AppendRecords appends es to the record in order, as AppendRecord does
// for one entry, but under one lock, with one read of the chain head, one
// look-up of the refs and one INSERT: the inbox worker records a whole
// batch of received activities this way, in one transaction.
func (s *Store) AppendRecords(ctx context.Context, es []*RecordEntry) error {
	if len(es) == 0 {
		return nil
	}
	if !s.inTx {
		return s.Tx(ctx, func(tx *Store) error { return tx.AppendRecords(ctx, es) })
	}
	for _, e := range es {
		if e.Kind == "" {
			return errors.New("append record: no kind")
		}
		switch e.Direction {
		case DirIn, DirOut, DirInternal:
		default:
			return fmt.Errorf("append record %s: direction %q is not in, out or internal", e.Kind, e.Direction)
		}
		if e.Payload == "" {
			e.Payload = "{}"
		}
		if !json.Valid([]byte(e.Payload)) {
			return fmt.Errorf("append record %s: payload is not JSON", e.Kind)
		}
	}
	if err := s.lockRecord(ctx); err != nil {
		return err
	}
	// Entries whose ref is recorded already are loaded, not appended;
	// the first of several entries with one ref in es is the one appended.
	var refs []string
	for _, e := range es {
		if e.Ref != "" {
			refs = append(refs, e.Ref)
		}
	}
	recorded := map[string]*RecordEntry{}
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), 500)]
		refs = refs[len(chunk):]
		var old []RecordEntry
		if err := s.ctx(ctx).Where("ref IN ?", chunk).Order("seq").Find(&old).Error; err != nil {
			return fmt.Errorf("append record: look up refs: %w", err)
		}
		for i := range old {
			if _, ok := recorded[old[i].Ref]; !ok {
				recorded[old[i].Ref] = &old[i]
			}
		}
	}
	var last struct {
		Seq       int64
		EntryHash string
	}
	if err := s.ctx(ctx).Raw("SELECT seq, entry_hash FROM record_entries ORDER BY seq DESC LIMIT 1").Scan(&last).Error; err != nil {
		return fmt.Errorf("append record: read chain head: %w", err)
	}
	if last.EntryHash == "" {
		last.EntryHash = recordGenesisHash
	}
	now := s.now()
	var fresh []*RecordEntry
	for _, e := range es {
		if e.Ref != "" {
			if old, ok := recorded[e.Ref]; ok {
				*e = *old
				continue
			}
			recorded[e.Ref] = e
		}
		e.Seq = last.Seq + 1
		e.PrevHash = last.EntryHash
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
		if e.Category == "" {
			e.Category = e.Kind
		}
		e.ContentHash = sha256Hex(e.Payload)
		e.EntryHash = e.ComputeHash()
		last.Seq, last.EntryHash = e.Seq, e.EntryHash
		fresh = append(fresh, e)
	}
	if len(fresh) == 0 {
		return nil
	}
	// Plain multi-row inserts (gorm's CreateInBatches spent more on
	// reflection than SQLite on the rows).
	for len(fresh) > 0 {
		chunk := fresh[:min(len(fresh), 100)]
		fresh = fresh[len(chunk):]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO record_entries (seq, at, kind, category, direction, group_id, actor, object_iri, origin,
	verified, ref, payload, content_hash, prev_hash, entry_hash) VALUES `)
		args := make([]any, 0, len(chunk)*15)
		for i, e := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, e.Seq, e.At, e.Kind, e.Category, e.Direction, e.GroupID, e.Actor, e.ObjectIRI, e.Origin,
				e.Verified, e.Ref, e.Payload, e.ContentHash, e.PrevHash, e.EntryHash)
		}
		if err := translate(s.ctx(ctx).Exec(sb.String(), args...).Error); err != nil {
			return fmt.Errorf("append record %s: %w", chunk[0].Kind, err)
		}
	}
	return nil
}

// lockRecord takes the record's append lock for the rest of the
// transaction (gallring selects and deletes under it).
func (s *Store) lockRecord(ctx context.Context) error {
	if s.driver != "postgres" {
		return nil // the transaction holds SQLite's only write lock
	}
	if err := s.ctx(ctx).Exec("SELECT pg_advisory_xact_lock(?)", recordAdvisoryLock).Error; err != nil {
		return fmt.Errorf("lock record: %w", err)
	}
	return nil
}

// ComputeHash is the entry's hash: SHA-256 over a length-prefixed
// encoding of every field but EntryHash, the payload by its hash.
func (e *RecordEntry) ComputeHash() string {
	h := sha256.New()
	group := ""
	if e.GroupID != nil {
		group = strconv.FormatInt(*e.GroupID, 10)
	}
	for _, f := range []string{recordHashVersion, strconv.FormatInt(e.Seq, 10), e.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		e.Kind, e.Category, e.Direction, group, e.Actor, e.ObjectIRI, e.Origin, strconv.FormatBool(e.Verified), e.Ref,
		e.ContentHash, e.PrevHash} {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, f string) {
	h.Write([]byte(strconv.Itoa(len(f))))
	h.Write([]byte{':'})
	h.Write([]byte(f))
	h.Write([]byte{'\n'})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ChainReport is the result of VerifyChain.
type ChainReport struct {
	Entries     int
	OK          bool
	BrokenSeq   int64  // the first entry that does not verify (0: none)
	Problem     string // what is wrong with it
	GallraSkips int    // entries missing because gallring removed them
}

// GallringPayload is the payload of a KindGallring entry: the log of one
// gallring run. VerifyChain reads Deleted to accept the gaps it left.
type GallringPayload struct {
	Decision string           `json:"decision"`
	RunAt    time.Time        `json:"run_at"`
	Count    int              `json:"count"`
	Deleted  []GallringRemove `json:"deleted"`
	Skipped  []GallringRemove `json:"skipped"`
}

// GallringRemove names one entry a gallring run removed or skipped.
type GallringRemove struct {
	Seq      int64  `json:"seq"`
	Hash     string `json:"hash"`
	Category string `json:"category"`
	At       string `json:"at"`
	Reason   string `json:"reason,omitempty"`
}

// VerifyChain recomputes every entry's content and entry hash and checks
// each links to the one before. Gaps are accepted only where a gallring
// log entry lists the removed entry by sequence number and hash.
func (s *Store) VerifyChain(ctx context.Context) (*ChainReport, error) {
	removed := map[int64]string{}
	var logs []RecordEntry
	if err := s.ctx(ctx).Where("kind = ?", KindGallring).Order("seq").Find(&logs).Error; err != nil {
		return nil, fmt.Errorf("verify record: load gallring logs: %w", err)
	}
	for _, l := range logs {
		var p GallringPayload
		if err := json.Unmarshal([]byte(l.Payload), &p); err != nil {
			continue // its own hash check reports a damaged log
		}
		for _, d := range p.Deleted {
			removed[d.Seq] = d.Hash
		}
	}
	r := &ChainReport{OK: true}
	prevSeq, prevHash := int64(0), recordGenesisHash
	fail := func(seq int64, problem string) {
		r.OK, r.BrokenSeq, r.Problem = false, seq, problem
	}
	const batch = 1000
	after := int64(0)
	for r.OK {
		var es []RecordEntry
		if err := s.ctx(ctx).Where("seq > ?", after).Order("seq").Limit(batch).Find(&es).Error; err != nil {
			return nil, fmt.Errorf("verify record: %w", err)
		}
		for i := range es {
			e := &es[i]
			r.Entries++
			// A gap must be exactly what gallring logged.
			for missing := prevSeq + 1; missing < e.Seq; missing++ {
				h, ok := removed[missing]
				if !ok {
					fail(e.Seq, fmt.Sprintf("entry %d is missing and no gallring log lists it", missing))
					return r, nil
				}
				r.GallraSkips++
				prevHash = h
			}
			switch {
			case sha256Hex(e.Payload) != e.ContentHash:
				fail(e.Seq, "payload does not match its content hash")
			case e.ComputeHash() != e.EntryHash:
				fail(e.Seq, "fields do not match the entry hash")
			case e.PrevHash != prevHash:
				fail(e.Seq, "previous hash does not match the entry before it")
			}
			if !r.OK {
				return r, nil
			}
			prevSeq, prevHash = e.Seq, e.EntryHash
		}
		if len(es) < batch {
			break
		}
		after = es[len(es)-1].Seq
	}
	return r, nil
}

// RecordQuery selects record entries for search and export. Zero fields
// do not filter.
type RecordQuery struct {
	From, To  time.Time // At >= From, At < To
	GroupID   int64
	Direction string
	Actor     string // substring of the actor
	Kind      string // a kind ("post.update") or a prefix ("post")
	Text      string // substring of the payload, case-insensitive
	BeforeSeq int64  // paging: entries older than this
	Limit     int    // default 50, at most 1000
}

func (s *Store) recordWhere(ctx context.Context, q RecordQuery) *gorm.DB {
	db := s.ctx(ctx).Model(&RecordEntry{})
	if !q.From.IsZero() {
		db = db.Where("at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		db = db.Where("at < ?", q.To.UTC())
	}
	if q.GroupID > 0 {
		db = db.Where("group_id = ?", q.GroupID)
	}
	if q.Direction != "" {
		db = db.Where("direction = ?", q.Direction)
	}
	if q.Actor != "" {
		db = db.Where(`actor LIKE ? ESCAPE '\'`, "%"+likeEscape(q.Actor)+"%")
	}
	if q.Kind != "" {
		db = db.Where("(kind = ? OR kind LIKE ?)", q.Kind, likeEscape(q.Kind)+".%")
	}
	if q.Text != "" {
		db = db.Where(`LOWER(payload) LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(q.Text))+"%")
	}
	return db
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchRecord returns one page of matching entries, newest first.
func (s *Store) SearchRecord(ctx context.Context, q RecordQuery) ([]RecordEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 1000 {
		q.Limit = 1000
	}
	db := s.recordWhere(ctx, q)
	if q.BeforeSeq > 0 {
		db = db.Where("seq < ?", q.BeforeSeq)
	}
	var out []RecordEntry
	if err := db.Order("seq DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("search record: %w", err)
	}
	return out, nil
}

// EachRecord calls fn for every matching entry, oldest first (Limit and
// BeforeSeq are ignored).
func (s *Store) EachRecord(ctx context.Context, q RecordQuery, fn func(*RecordEntry) error) error {
	after := int64(0)
	for {
		var es []RecordEntry
		if err := s.recordWhere(ctx, q).Where("seq > ?", after).Order("seq").Limit(500).Find(&es).Error; err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		for i := range es {
			if err := fn(&es[i]); err != nil {
				return err
			}
		}
		if len(es) < 500 {
			return nil
		}
		after = es[len(es)-1].Seq
	}
}

// RecordEntry loads one entry by sequence number.
func (s *Store) RecordEntry(ctx context.Context, seq int64) (*RecordEntry, error) {
	var e RecordEntry
	if err := translate(s.ctx(ctx).Take(&e, seq).Error); err != nil {
		return nil, fmt.Errorf("load record entry %d: %w", seq, err)
	}
	return &e, nil
}

// FirstRecordAt is the time of a group's first record entry (zero: none).
func (s *Store) FirstRecordAt(ctx context.Context, groupID int64) (time.Time, error) {
	var e RecordEntry
	err := translate(s.ctx(ctx).Where("group_id = ?", groupID).Order("seq").Take(&e).Error)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	return e.At, err
}

// AddHold puts a legal hold on an entry (h.EntrySeq) or on every entry
// about an object (h.ObjectIRI), and records it.
func (s *Store) AddHold(ctx context.Context, h *RecordHold) error {
	if (h.EntrySeq == nil) == (h.ObjectIRI == "") {
		return errors.New("legal hold: give either an entry or an object IRI")
	}
	if strings.TrimSpace(h.Reason) == "" {
		return errors.New("legal hold: a reason is required (the request or appeal it is for)")
	}
	return s.Tx(ctx, func(tx *Store) error {
		if h.EntrySeq != nil {
			if _, err := tx.RecordEntry(ctx, *h.EntrySeq); err != nil {
				return err
			}
		}
		h.CreatedAt = tx.now()
		if err := translate(tx.ctx(ctx).Create(h).Error); err != nil {
			return fmt.Errorf("add legal hold: %w", err)
		}
		p, _ := json.Marshal(h)
		return tx.AppendRecord(ctx, &RecordEntry{Kind: KindHold, Direction: DirInternal, Actor: h.CreatedBy, ObjectIRI: h.ObjectIRI,
			Ref: "hold:" + strconv.FormatInt(h.ID, 10), Payload: string(p)})
	})
}

// ReleaseHold ends a legal hold and records it.
func (s *Store) ReleaseHold(ctx context.Context, id int64, by string) error {
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.now()
		res := tx.ctx(ctx).Model(&RecordHold{}).Where("id = ? AND released_at IS NULL", id).Updates(map[string]any{"released_at": &now, "released_by": by})
		if res.Error != nil {
			return fmt.Errorf("release hold %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("release hold %d: %w", id, ErrNotFound)
		}
		var h RecordHold
		if err := tx.ctx(ctx).Take(&h, id).Error; err != nil {
			return err
		}
		p, _ := json.Marshal(h)
		return tx.AppendRecord(ctx, &RecordEntry{Kind: KindHoldRelease, Direction: DirInternal, Actor: by, ObjectIRI: h.ObjectIRI,
			Ref: "hold-release:" + strconv.FormatInt(id, 10), Payload: string(p)})
	})
}

// ActiveHolds lists holds not released, oldest first.
func (s *Store) ActiveHolds(ctx context.Context) ([]RecordHold, error) {
	var hs []RecordHold
	err := s.ctx(ctx).Where("released_at IS NULL").Order("id").Find(&hs).Error
	return hs, err
}
