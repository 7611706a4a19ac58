package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/subject"
)

// Decisions on an erasure request.
const (
	Remove       = "remove"       // remove from public view (and ask other servers to delete)
	Pseudonymise = "pseudonymise" // keep public, show a pseudonym instead of the handle
	Refuse       = "refuse"
)

// ErrInvalid is a request or decision that cannot be taken as asked.
var ErrInvalid = errors.New("invalid erasure decision")

// ErrUnknownAccount is an account torget holds nothing about (or not an
// account at all).
var ErrUnknownAccount = errors.New("unknown account")

// Ground is a legal ground a decision rests on.
type Ground struct {
	Code    string
	Label   string // Swedish, as the answer letter states it
	Statute string
}

// Grounds is the catalogue of legal grounds staff choose from. Whatever
// is decided, the record store keeps the items until a gallring decision
// (archiveGround).
var Grounds = []Ground{
	{"gdpr-17-1", "Rätten till radering: uppgifterna behöver inte längre visas offentligt", "GDPR art. 17.1"},
	{"gdpr-21", "Invändning mot behandling som grundar sig på allmänt intresse", "GDPR art. 21.1 och 17.1 c"},
	{"tf-arkivlagen", "Allmän handling som ska bevaras: offentlighetsprincipen och arkivlagen", "TF 2 kap.; arkivlagen (1990:782) 3 och 10 §§"},
	{"gdpr-17-3-b", "Rättslig förpliktelse och uppgift av allmänt intresse", "GDPR art. 17.3 b"},
	{"gdpr-17-3-d", "Arkivändamål av allmänt intresse", "GDPR art. 17.3 d"},
}

var archiveGround = Ground{"tf-arkivlagen", "offentlighetsprincipen och arkivlagen", "TF 2 kap. och arkivlagen (1990:782), GDPR art. 17.3 b"}

// GroundByCode finds a ground of the catalogue.
func GroundByCode(code string) (Ground, bool) {
	for _, g := range Grounds {
		if g.Code == code {
			return g, true
		}
	}
	return Ground{}, false
}

// Staff is who registers or decides.
type Staff struct {
	ID   int64
	Name string
}

func (m Staff) actor() string {
	if m.ID == 0 {
		return "cli:" + m.Name
	}
	return store.StaffActor(m.ID, m.Name)
}

// Service handles erasure requests.
type Service struct {
	st  *store.Store
	fed *federation.Service
	log *slog.Logger
}

// New returns a Service.
func New(st *store.Store, fed *federation.Service, log *slog.Logger) *Service {
	return &Service{st: st, fed: fed, log: log}
}

// Register records a request for the account who (@user@host or actor
// IRI). The account must be known here.
func (s *Service) Register(ctx context.Context, m Staff, who, contact, text string) (*store.ErasureRequest, error) {
	text, contact = strings.TrimSpace(text), strings.TrimSpace(contact)
	if text == "" || len(text) > 5000 || len(contact) > 500 {
		return nil, fmt.Errorf("%w: write what the person asked for (at most 5000 bytes)", ErrInvalid)
	}
	iri, err := subject.Resolve(ctx, s.st, who)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", ErrUnknownAccount, err)
	}
	var a *store.RemoteActor
	if err == nil {
		a, err = s.st.RemoteActorByIRI(ctx, iri)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAccount, who)
	}
	if err != nil {
		return nil, err
	}
	r := &store.ErasureRequest{SubjectIRI: iri, Handle: handleOf(a), RequesterContact: contact, RequestText: text, CreatedBy: m.Name}
	if err := s.st.InsertErasureRequest(ctx, r); err != nil {
		return nil, err
	}
	payload, _ := json.Marshal(map[string]any{"request": r})
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindErasure, Category: store.KindErasure + ".request", Direction: store.DirIn,
		Actor: m.actor(), ObjectIRI: iri, Ref: "erasure:" + strconv.FormatInt(r.ID, 10) + ":request", Payload: string(payload)}); err != nil {
		return r, fmt.Errorf("record erasure request %d: %w", r.ID, err)
	}
	s.audit(ctx, m, "erasure_request", iri, "request "+strconv.FormatInt(r.ID, 10))
	return r, nil
}

// Decide takes the decision on an open request: it is recorded (with the
// legal ground and the answer) before anything changes; then the public
// view changes (removal federates Undo{Announce} and Delete for what the
// group announced, art. 17.2), and the answer is sent to the person as a
// direct message from a group they wrote to or follow.
func (s *Service) Decide(ctx context.Context, m Staff, id int64, action, ground, reasons string) (*store.ErasureRequest, error) {
	r, err := s.st.ErasureRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != store.ErasureOpen {
		return nil, fmt.Errorf("%w: the request is already decided", ErrInvalid)
	}
	g, ok := GroundByCode(ground)
	if !ok {
		return nil, fmt.Errorf("%w: choose a legal ground from the catalogue", ErrInvalid)
	}
	reasons = strings.TrimSpace(reasons)
	if reasons == "" || len(reasons) > 5000 {
		return nil, fmt.Errorf("%w: write the reasons for the decision (at most 5000 bytes)", ErrInvalid)
	}
	switch action {
	case Remove:
		r.Status = store.ErasureRemoved
	case Pseudonymise:
		r.Status = store.ErasurePseudonymised
	case Refuse:
		r.Status = store.ErasureRefused
	default:
		return nil, fmt.Errorf("%w: unknown decision %q", ErrInvalid, action)
	}
	if r.Status != store.ErasureRefused {
		r.Pseudonym = pseudonymCode()
	}
	r.LegalGround, r.Reasons, r.DecidedBy = g.Code, reasons, m.Name
	grp, err := s.answeringGroup(ctx, r.SubjectIRI)
	if err != nil {
		return nil, err
	}
	if grp != nil {
		r.GroupID = &grp.ID
	}
	r.AnswerText = Letter(r, g, grp)
	if err := s.st.DecideErasureRequest(ctx, r); err != nil {
		return nil, err
	}
	payload, _ := json.Marshal(map[string]any{"request": r, "ground": g, "record_kept": archiveGround})
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindErasure, Category: store.KindErasure + "." + r.Status, Direction: store.DirInternal,
		GroupID: r.GroupID, Actor: m.actor(), ObjectIRI: r.SubjectIRI, Ref: "erasure:" + strconv.FormatInt(r.ID, 10), Payload: string(payload)}); err != nil {
		return r, fmt.Errorf("record erasure decision %d: %w", r.ID, err)
	}
	s.audit(ctx, m, "erasure_"+action, r.SubjectIRI, fmt.Sprintf("request=%d ground=%s reasons=%s", r.ID, g.Code, reasons))
	if r.Status == store.ErasureRemoved {
		if err := s.removeFromPublic(ctx, r); err != nil {
			return r, err
		}
	}
	s.fed.PagesChanged()
	if grp != nil {
		iri, err := s.fed.NotifyAuthor(ctx, grp, r.SubjectIRI, r.Handle, r.AnswerText)
		if err != nil {
			// The decision stands; staff see the answer was not sent and
			// download it to send it another way.
			s.log.Warn("erasure answer not sent", "request", r.ID, "subject", r.SubjectIRI, "err", err)
			return r, nil
		}
		r.AnswerIRI = iri
		if err := s.st.SetErasureAnswerIRI(ctx, r.ID, iri); err != nil {
			return r, err
		}
	}
	return r, nil
}

// removeFromPublic hides every note of the person and retracts what the
// group announced of them from the followers that received it.
func (s *Service) removeFromPublic(ctx context.Context, r *store.ErasureRequest) error {
	ns, err := s.st.EraseNotesFromPublic(ctx, r.SubjectIRI)
	if err != nil {
		return err
	}
	for i := range ns {
		n := &ns[i]
		if n.AnnouncedAt == nil || n.DeletedAt != nil {
			continue
		}
		if _, err := s.fed.RetractNote(ctx, n, "erasure request "+strconv.FormatInt(r.ID, 10)); err != nil {
			return fmt.Errorf("retract %s: %w", n.IRI, err)
		}
	}
	return nil
}

// answeringGroup is the group that answers: the first the person wrote
// in, else the first they follow, else none (the answer is then only
// downloadable).
func (s *Service) answeringGroup(ctx context.Context, actorIRI string) (*store.Group, error) {
	ns, err := s.st.RemoteNotesByAuthor(ctx, actorIRI)
	if err != nil {
		return nil, err
	}
	var gid int64
	if len(ns) > 0 {
		gid = ns[0].GroupID
	} else {
		fs, err := s.st.FollowsByActor(ctx, actorIRI)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			return nil, nil
		}
		gid = fs[0].GroupID
	}
	return s.st.GroupByID(ctx, gid)
}

// Letter is the written answer to the person, in Swedish (the language of
// the authority's decisions).
func Letter(r *store.ErasureRequest, g Ground, grp *store.Group) string {
	var b strings.Builder
	from := "Vi"
	if grp != nil {
		from = "Gruppen " + grp.Name
	}
	fmt.Fprintf(&b, "Svar på din begäran om radering (ärende %d).\n\n", r.ID)
	switch r.Status {
	case store.ErasureRemoved:
		fmt.Fprintf(&b, "%s har beslutat att ta bort dina inlägg, svar och reaktioner från allmän visning. De visas inte längre på våra sidor eller i våra flöden, och vi har bett de servrar som fått dem av oss att radera dem. Vi kan inte garantera att andra servrar gör det.\n\n", from)
	case store.ErasurePseudonymised:
		fmt.Fprintf(&b, "%s har beslutat att dina inlägg och svar visas under pseudonymen \"Invånare %s\" i stället för ditt kontonamn.\n\n", from, r.Pseudonym)
	case store.ErasureRefused:
		fmt.Fprintf(&b, "%s har beslutat att inte bifalla din begäran.\n\n", from)
	}
	fmt.Fprintf(&b, "Rättslig grund: %s, %s.\n\nMotivering: %s\n\n", g.Label, g.Statute, r.Reasons)
	fmt.Fprintf(&b, "Det du har skickat till oss är allmänna handlingar. De bevaras i vårt arkiv enligt %s (%s) och raderas först enligt ett beslut om gallring.\n\n",
		archiveGround.Label, archiveGround.Statute)
	b.WriteString("Du kan klaga hos Integritetsskyddsmyndigheten (IMY), https://www.imy.se/.")
	return b.String()
}

func (s *Service) audit(ctx context.Context, m Staff, action, target, detail string) {
	e := &store.AuditEntry{Username: m.Name, Action: action, Target: clip(target, 500), Detail: clip(detail, 1000)}
	if m.ID != 0 {
		id := m.ID
		e.UserID = &id
	}
	if err := s.st.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit erasure request", "action", action, "err", err)
	}
}

func handleOf(a *store.RemoteActor) string {
	if a.PreferredUsername != "" {
		return "@" + a.PreferredUsername + "@" + a.Host
	}
	return a.IRI
}

// pseudonymCode is four random hex digits: random, not derived from the
// handle, so that it cannot be reversed by hashing known handles.
func pseudonymCode() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
