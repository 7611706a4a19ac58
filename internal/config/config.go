// Package config loads torget's TOML configuration, applies TORGET_…
// environment overrides and validates the result.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	// The zone database is embedded: a minimal container has none.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
)

// Duration is a time.Duration written as "10s" in TOML and the environment.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the whole configuration. Every key is documented in
// config.example.toml.
type Config struct {
	Server     Server     `toml:"server"`
	Instance   Instance   `toml:"instance"`
	Database   Database   `toml:"database"`
	Federation Federation `toml:"federation"`
	Delivery   Delivery   `toml:"delivery"`
	Auth       Auth       `toml:"auth"`
	OIDC       OIDC       `toml:"oidc"`
	Media      Media      `toml:"media"`
	Log        Log        `toml:"log"`
	Cases      Cases      `toml:"cases"`
	Moderation Moderation `toml:"moderation"`
	Privacy    Privacy    `toml:"privacy"`
	Access     Access     `toml:"accessibility"`
	Archive    Archive    `toml:"archive"`
	SMTP       SMTP       `toml:"smtp"`
	Notify     Notify     `toml:"notify"`
	// Retention is the gallring rules, [[retention]] in TOML (no
	// environment override). Categories without a rule are kept.
	Retention []RetentionRule `toml:"retention"`
}

// Archive names the agents of archive packages (FGS Paketstruktur 2.0).
// Empty names fall back to instance.organisation; empty identification
// codes to "domain:" + server.domain.
type Archive struct {
	ArchivalCreator     string `toml:"archival_creator"`
	ArchivalCreatorID   string `toml:"archival_creator_id"`
	Submitter           string `toml:"submitter"`
	SubmitterID         string `toml:"submitter_id"`
	SubmissionAgreement string `toml:"submission_agreement"`
	// Schedule "yearly" makes, on ScheduleDate ("MM-DD", instance time
	// zone), one package per group of the previous calendar year in Dir.
	Schedule     string `toml:"schedule"`
	ScheduleDate string `toml:"schedule_date"`
	Dir          string `toml:"dir"`
}

// ScheduleDay is the month and day of ScheduleDate (default 2 January).
func (a Archive) ScheduleDay() (time.Month, int, error) {
	if a.ScheduleDate == "" {
		return time.January, 2, nil
	}
	t, err := time.Parse("01-02", a.ScheduleDate)
	if err != nil || t.Day() > 28 && t.Month() == time.February {
		return 0, 0, fmt.Errorf("archive.schedule_date %q: want MM-DD (not 29 February)", a.ScheduleDate)
	}
	return t.Month(), t.Day(), nil
}

// RetentionRule maps a record category to a retention period and the
// gallring decision (gallringsbeslut) that allows removing it (REC-7).
type RetentionRule struct {
	Category string `toml:"category"` // a record category, e.g. "inbound.like"
	Period   string `toml:"period"`   // "1y", "6m", "90d", "2w"
	Decision string `toml:"decision"` // e.g. "SSA-2026:12"
}

// Cutoff is the time before which entries of the rule's category may be
// removed.
func (r RetentionRule) Cutoff(now time.Time) (time.Time, error) {
	p := strings.TrimSpace(r.Period)
	if len(p) < 2 {
		return time.Time{}, fmt.Errorf("retention period %q: want a number and y, m, w or d", r.Period)
	}
	n, err := strconv.Atoi(p[:len(p)-1])
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("retention period %q: want a positive number and y, m, w or d", r.Period)
	}
	switch p[len(p)-1] {
	case 'y':
		return now.AddDate(-n, 0, 0), nil
	case 'm':
		return now.AddDate(0, -n, 0), nil
	case 'w':
		return now.AddDate(0, 0, -7*n), nil
	case 'd':
		return now.AddDate(0, 0, -n), nil
	}
	return time.Time{}, fmt.Errorf("retention period %q: want a number and y, m, w or d", r.Period)
}

// Server is where and as what torget listens.
type Server struct {
	Domain          string   `toml:"domain"`
	Listen          string   `toml:"listen"`
	BaseURL         string   `toml:"base_url"`
	TLSCert         string   `toml:"tls_cert"`
	TLSKey          string   `toml:"tls_key"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// Instance describes the operating organisation.
type Instance struct {
	Name            string `toml:"name"`
	Description     string `toml:"description"`
	Organisation    string `toml:"organisation"`
	OrganisationURL string `toml:"organisation_url"`
	ContactEmail    string `toml:"contact_email"`
	// TimeZone is where pages show dates (an IANA name).
	TimeZone string `toml:"time_zone"`
}

// Location is the instance time zone (UTC when unset).
func (in Instance) Location() (*time.Location, error) {
	if in.TimeZone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(in.TimeZone)
}

// Database selects the store.
type Database struct {
	URL          string `toml:"url"`
	MaxOpenConns int    `toml:"max_open_conns"`
}

// Federation bounds what we accept from and send to other servers.
type Federation struct {
	AllowPrivateNetworks []string `toml:"allow_private_networks"`
	RequestTimeout       Duration `toml:"request_timeout"`
	MaxBodyBytes         int64    `toml:"max_body_bytes"`
	MaxResponseBytes     int64    `toml:"max_response_bytes"`
	CAFile               string   `toml:"ca_file"`
	SignatureMaxAge      Duration `toml:"signature_max_age"`
	SignatureMaxFuture   Duration `toml:"signature_max_future"`
	ActorCacheTTL        Duration `toml:"actor_cache_ttl"`
}

// Delivery tunes the outgoing queue.
type Delivery struct {
	Workers          int      `toml:"workers"`
	PerDomain        int      `toml:"per_domain"`
	RetryFor         Duration `toml:"retry_for"`
	MaxBackoff       Duration `toml:"max_backoff"`
	BaseBackoff      Duration `toml:"base_backoff"`
	BreakerThreshold int      `toml:"breaker_threshold"`
	ProbeInterval    Duration `toml:"probe_interval"`
	InboxWorkers     int      `toml:"inbox_workers"`
	Lease            Duration `toml:"lease"`
	SchedulePoll     Duration `toml:"schedule_poll"`
}

// Auth tunes staff sign-in: sessions and login throttling.
type Auth struct {
	SessionIdleTimeout Duration `toml:"session_idle_timeout"`
	SessionLifetime    Duration `toml:"session_lifetime"`
	LockoutFailures    int      `toml:"lockout_failures"`
	LockoutWindow      Duration `toml:"lockout_window"`
	LockoutDuration    Duration `toml:"lockout_duration"`
	IPMaxFailures      int      `toml:"ip_max_failures"`
}

// OIDC is single sign-on with the organisation's identity provider over
// OpenID Connect. An empty issuer turns it off. The claim named by
// UsernameClaim is mapped to an existing staff account of that username;
// no account is ever created by signing in.
type OIDC struct {
	Issuer        string   `toml:"issuer"`
	ClientID      string   `toml:"client_id"`
	ClientSecret  string   `toml:"client_secret"`
	RedirectURL   string   `toml:"redirect_url"`
	UsernameClaim string   `toml:"username_claim"`
	Scopes        []string `toml:"scopes"`
}

// Enabled reports whether single sign-on is configured.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// Media selects where uploaded images are stored and bounds uploads.
// Storage "local" keeps them in Dir on this node; "s3" in a bucket of an
// S3-compatible object store, which every node of a site shares.
type Media struct {
	Storage     string `toml:"storage"`
	Dir         string `toml:"dir"`
	MaxBytes    int64  `toml:"max_bytes"`
	MaxPixels   int64  `toml:"max_pixels"`
	S3Endpoint  string `toml:"s3_endpoint"`
	S3UseTLS    bool   `toml:"s3_use_tls"`
	S3Region    string `toml:"s3_region"`
	S3Bucket    string `toml:"s3_bucket"`
	S3AccessKey string `toml:"s3_access_key"`
	S3SecretKey string `toml:"s3_secret_key"`
	S3Prefix    string `toml:"s3_prefix"`
	S3PathStyle bool   `toml:"s3_path_style"`
}

// Log configures log/slog.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Cases configures questions to groups (cases), their service level and
// the liveness warnings.
type Cases struct {
	DueWorkingDays  int      `toml:"due_working_days"`
	StaleDays       int      `toml:"stale_days"`
	SupervisionDays int      `toml:"supervision_days"`
	ProposalsURL    string   `toml:"proposals_url"`
	MeetingsURL     string   `toml:"meetings_url"`
	FeedbackURL     string   `toml:"feedback_url"`
	Authorities     []string `toml:"authorities"`
	FeedbackPerHour int      `toml:"feedback_per_hour"`
	// HoldWhenUnsupervised holds new replies to a group whose supervision
	// has lapsed until a moderator reviews its queue (LIV-2).
	HoldWhenUnsupervised bool `toml:"hold_when_unsupervised"`
}

// SMTP is the mail server alerts are sent through. An empty host turns
// mailing off: alerts are still recorded and shown to administrators.
type SMTP struct {
	Host         string `toml:"host"`
	Port         int    `toml:"port"`
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	From         string `toml:"from"`
	StartTLS     string `toml:"starttls"` // required, opportunistic or none
}

// Enabled reports whether alerts are mailed.
func (s SMTP) Enabled() bool { return s.Host != "" }

// Secret is the password, from password_file when set.
func (s SMTP) Secret() (string, error) {
	if s.PasswordFile == "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("smtp.password_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Notify configures alerts.
type Notify struct {
	// Communications is the central communications role's address, told
	// when a group is created or closed (ID-6).
	Communications string   `toml:"communications"`
	SweepInterval  Duration `toml:"sweep_interval"`
	RetryFor       Duration `toml:"retry_for"`
}

// Moderation sets the time target for reports in the legal categories of
// the Act on Electronic Bulletin Boards (MOD-5): act the same working day,
// alert after LegalTarget of working time (Monday–Friday, WorkingHours in
// instance.time_zone).
type Moderation struct {
	LegalTarget  Duration `toml:"legal_target"`
	WorkingHours string   `toml:"working_hours"`
}

// Privacy is the privacy notice (GDPR art. 13). Every field is required.
type Privacy struct {
	Controller string `toml:"controller"`
	DPO        string `toml:"dpo"`
	Purposes   string `toml:"purposes"`
	LegalBasis string `toml:"legal_basis"`
	Recipients string `toml:"recipients"`
	Retention  string `toml:"retention"`
	Rights     string `toml:"rights"`
	Complaint  string `toml:"complaint"`
	Transfers  string `toml:"transfers"`
	// IPRetention is how long IP addresses and user agents (sessions,
	// sign-in attempts, audit log) are kept before the sweep blanks them
	// (PRV-6; default 14 days).
	IPRetention Duration `toml:"ip_retention"`
	// OperationalRetention is how long payloads of finished inbox items
	// and finished deliveries are kept (the record keeps the activities;
	// default 90 days).
	OperationalRetention Duration `toml:"operational_retention"`
	// SweepInterval is how often the server runs the sweep (default 1h).
	SweepInterval Duration `toml:"sweep_interval"`
}

// PrivacyNotice is the notice's text fields, for the public page.
type PrivacyNotice struct {
	Controller, DPO, Purposes, LegalBasis, Recipients, Retention, Rights, Complaint, Transfers string
}

// Notice returns the text fields of the privacy notice.
func (p Privacy) Notice() PrivacyNotice {
	return PrivacyNotice{Controller: p.Controller, DPO: p.DPO, Purposes: p.Purposes, LegalBasis: p.LegalBasis, Recipients: p.Recipients,
		Retention: p.Retention, Rights: p.Rights, Complaint: p.Complaint, Transfers: p.Transfers}
}

// Access is the accessibility statement (Digg's fields, lag 2018:1937).
type Access struct {
	Status        string   `toml:"status"`
	Gaps          []string `toml:"gaps"`
	AssessedOn    string   `toml:"assessed_on"`
	UpdatedOn     string   `toml:"updated_on"`
	Method        string   `toml:"method"`
	Exceptions    string   `toml:"exceptions"`
	OutOfScope    string   `toml:"out_of_scope"`
	SupervisorURL string   `toml:"supervisor_url"`
}

// Default returns the configuration used when no file is given: SQLite
// under ./data/ and a server on localhost:8080.
func Default() Config {
	return Config{
		Server: Server{
			Domain:          "localhost:8080",
			Listen:          "127.0.0.1:8080",
			ShutdownTimeout: Duration{30 * time.Second},
		},
		Instance: Instance{Name: "torget", Organisation: "Example municipality", OrganisationURL: "https://example.org/", TimeZone: "Europe/Stockholm"},
		Database: Database{URL: "sqlite:data/torget.db", MaxOpenConns: 16},
		Archive:  Archive{ScheduleDate: "01-02"},
		Federation: Federation{
			AllowPrivateNetworks: []string{},
			RequestTimeout:       Duration{10 * time.Second},
			MaxBodyBytes:         1 << 20,
			MaxResponseBytes:     1 << 20,
			SignatureMaxAge:      Duration{65 * time.Minute},
			SignatureMaxFuture:   Duration{60 * time.Minute},
			ActorCacheTTL:        Duration{24 * time.Hour},
		},
		Delivery: Delivery{
			Workers:          32,
			PerDomain:        4,
			RetryFor:         Duration{48 * time.Hour},
			MaxBackoff:       Duration{6 * time.Hour},
			BaseBackoff:      Duration{30 * time.Second},
			BreakerThreshold: 8,
			ProbeInterval:    Duration{10 * time.Minute},
			InboxWorkers:     4,
			Lease:            Duration{2 * time.Minute},
			SchedulePoll:     Duration{15 * time.Second},
		},
		Auth: Auth{
			SessionIdleTimeout: Duration{12 * time.Hour},
			SessionLifetime:    Duration{7 * 24 * time.Hour},
			LockoutFailures:    5,
			LockoutWindow:      Duration{15 * time.Minute},
			LockoutDuration:    Duration{15 * time.Minute},
			IPMaxFailures:      30,
		},
		OIDC: OIDC{UsernameClaim: "preferred_username", Scopes: []string{"openid", "profile"}},
		Log:  Log{Level: "info", Format: "text"},
		Cases: Cases{DueWorkingDays: 1, StaleDays: 30, SupervisionDays: 7,
			ProposalsURL: "https://example.org/medborgarforslag", MeetingsURL: "https://example.org/namndmoten",
			FeedbackURL: "https://example.org/synpunkter", Authorities: []string{}, FeedbackPerHour: 10},
		Moderation: Moderation{LegalTarget: Duration{4 * time.Hour}, WorkingHours: "08:00-17:00"},
		SMTP:       SMTP{Port: 587, StartTLS: "required"},
		Notify:     Notify{SweepInterval: Duration{5 * time.Minute}, RetryFor: Duration{48 * time.Hour}},
		Privacy: Privacy{
			Controller:  "Example municipality (exempel: ange nämnden som är personuppgiftsansvarig)",
			DPO:         "Dataskyddsombudet, dataskyddsombud@example.org",
			Purposes:    "Att informera invånare, ta emot och besvara frågor och synpunkter, och bevara allmänna handlingar.",
			LegalBasis:  "Uppgift av allmänt intresse, artikel 6.1 e i dataskyddsförordningen (och artikel 9.2 g när känsliga uppgifter förekommer).",
			Recipients:  "Andra servrar i fediversum (till exempel Mastodon-servrar) får kopior av gruppernas inlägg och av svar till dig. Vi ber dem radera det vi tar bort, men kan inte garantera att de gör det.",
			Retention:   "Enligt kommunens dokumenthanteringsplan; tekniska loggar gallras efter 14 dagar.",
			Rights:      "Du har rätt till tillgång, rättelse, begränsning och invändning. För allmänna handlingar går arkivlagen före rätten till radering.",
			Complaint:   "Integritetsskyddsmyndigheten (IMY), https://www.imy.se/",
			Transfers:   "Vi för inte över uppgifter till länder utanför EU/EES; servrar i fediversum väljer du och andra själva.",
			IPRetention: Duration{14 * 24 * time.Hour}, OperationalRetention: Duration{90 * 24 * time.Hour},
			SweepInterval: Duration{time.Hour},
		},
		Access: Access{Status: "delvis förenlig", Gaps: []string{"Gränssnittet för personal har ännu inte granskats manuellt."},
			AssessedOn: "2026-11-01", UpdatedOn: "2026-11-27", Method: "Självskattning med automatiska kontroller (axe-core).",
			Exceptions:    "Inga undantag med hänvisning till oskäligt betungande anpassning (12 §).",
			OutOfScope:    "Innehåll från andra servrar i fediversum som visas i trådar omfattas inte (9 §).",
			SupervisorURL: "https://www.digg.se/tdosanmalan"},
		Media: Media{Storage: "local", MaxBytes: 10 << 20, MaxPixels: 40_000_000,
			S3UseTLS: true, S3PathStyle: true},
	}
}

// Load reads path (if non-empty) over the defaults, then applies the
// environment (TORGET_SECTION_KEY, e.g. TORGET_DATABASE_URL), then validates.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			return c, fmt.Errorf("read config %s: %w", path, err)
		}
		if un := md.Undecoded(); len(un) > 0 {
			return c, fmt.Errorf("read config %s: unknown key %q", path, un[0].String())
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// applyEnv walks the sections and keys by their toml tags.
func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TORGET_") {
			env[k] = v
		}
	}
	root := reflect.ValueOf(c).Elem()
	for i := 0; i < root.NumField(); i++ {
		sec := root.Field(i)
		if sec.Kind() != reflect.Struct {
			continue // [[retention]]: file only
		}
		secName := root.Type().Field(i).Tag.Get("toml")
		for j := 0; j < sec.NumField(); j++ {
			key := sec.Type().Field(j).Tag.Get("toml")
			name := "TORGET_" + strings.ToUpper(secName+"_"+key)
			v, ok := env[name]
			if !ok {
				continue
			}
			if err := setField(sec.Field(j), v); err != nil {
				return fmt.Errorf("environment %s: %w", name, err)
			}
		}
	}
	return nil
}

func setField(f reflect.Value, v string) error {
	if f.Type() == reflect.TypeOf(Duration{}) {
		var d Duration
		if err := d.UnmarshalText([]byte(v)); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list of %s", f.Type().Elem().Kind())
		}
		var parts []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}

var workingHoursPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$`)

// Validate checks the configuration and fills derived values (BaseURL).
func (c *Config) Validate() error {
	var errs []error
	if _, err := c.Instance.Location(); err != nil {
		errs = append(errs, fmt.Errorf("instance.time_zone %q: %w", c.Instance.TimeZone, err))
	}
	if c.Moderation.LegalTarget.Duration <= 0 {
		errs = append(errs, errors.New("moderation.legal_target must be positive (e.g. \"4h\")"))
	}
	if !workingHoursPattern.MatchString(c.Moderation.WorkingHours) {
		errs = append(errs, fmt.Errorf("moderation.working_hours %q: want HH:MM-HH:MM", c.Moderation.WorkingHours))
	}
	if c.Server.Domain == "" {
		errs = append(errs, errors.New("server.domain is required"))
	}
	if strings.ContainsAny(c.Server.Domain, "/@ ") {
		errs = append(errs, fmt.Errorf("server.domain %q must be a host name (with an optional port)", c.Server.Domain))
	}
	if c.Server.BaseURL == "" {
		scheme := "https"
		if strings.HasPrefix(c.Server.Domain, "localhost") {
			scheme = "http"
		}
		c.Server.BaseURL = scheme + "://" + c.Server.Domain
	}
	c.Server.BaseURL = strings.TrimRight(c.Server.BaseURL, "/")
	if u, err := url.Parse(c.Server.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
		errs = append(errs, fmt.Errorf("server.base_url %q must be scheme://host[:port] with no path", c.Server.BaseURL))
	} else if !strings.EqualFold(u.Host, c.Server.Domain) {
		errs = append(errs, fmt.Errorf("server.base_url host %q must equal server.domain %q (ids must be served from their own origin)", u.Host, c.Server.Domain))
	}
	if (c.Server.TLSCert == "") != (c.Server.TLSKey == "") {
		errs = append(errs, errors.New("server.tls_cert and server.tls_key go together"))
	}
	if _, err := c.Database.Driver(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.AllowedNets(); err != nil {
		errs = append(errs, err)
	}
	if c.Federation.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("federation.max_body_bytes must be positive"))
	}
	if c.Federation.RequestTimeout.Duration <= 0 {
		errs = append(errs, errors.New("federation.request_timeout must be positive"))
	}
	if c.Delivery.Workers <= 0 || c.Delivery.PerDomain <= 0 || c.Delivery.InboxWorkers <= 0 {
		errs = append(errs, errors.New("delivery.workers, delivery.per_domain and delivery.inbox_workers must be positive"))
	}
	if c.Delivery.RetryFor.Duration < time.Minute {
		errs = append(errs, errors.New("delivery.retry_for must be at least 1m"))
	}
	if c.Delivery.SchedulePoll.Duration <= 0 {
		errs = append(errs, errors.New("delivery.schedule_poll must be positive"))
	}
	if c.Auth.SessionIdleTimeout.Duration <= 0 || c.Auth.SessionLifetime.Duration < c.Auth.SessionIdleTimeout.Duration {
		errs = append(errs, errors.New("auth.session_idle_timeout must be positive and at most auth.session_lifetime"))
	}
	if c.Auth.LockoutFailures <= 0 || c.Auth.IPMaxFailures <= 0 || c.Auth.LockoutWindow.Duration <= 0 || c.Auth.LockoutDuration.Duration <= 0 {
		errs = append(errs, errors.New("auth.lockout_failures, ip_max_failures, lockout_window and lockout_duration must be positive"))
	}
	if c.Privacy.IPRetention.Duration < time.Hour || c.Privacy.OperationalRetention.Duration < time.Hour || c.Privacy.SweepInterval.Duration < time.Minute {
		errs = append(errs, errors.New("privacy.ip_retention and operational_retention must be at least 1h, sweep_interval at least 1m"))
	}
	errs = append(errs, c.validateOIDC()...)
	errs = append(errs, c.validateMail()...)
	errs = append(errs, c.validatePublic()...)
	for i, r := range c.Retention {
		if strings.TrimSpace(r.Category) == "" || strings.TrimSpace(r.Decision) == "" {
			errs = append(errs, fmt.Errorf("retention rule %d: category and decision are required", i+1))
		}
		if _, err := r.Cutoff(time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("retention rule %d: %w", i+1, err))
		}
	}
	switch c.Archive.Schedule {
	case "", "off":
	case "yearly":
		if strings.TrimSpace(c.Archive.Dir) == "" {
			errs = append(errs, errors.New(`archive.dir is required with archive.schedule = "yearly"`))
		}
	default:
		errs = append(errs, fmt.Errorf(`archive.schedule %q: want "yearly" or "off"`, c.Archive.Schedule))
	}
	if _, _, err := c.Archive.ScheduleDay(); err != nil {
		errs = append(errs, err)
	}
	if c.Media.Dir == "" {
		// Next to the SQLite database: one data directory to back up.
		c.Media.Dir = "data/media"
		if path, ok := strings.CutPrefix(c.Database.URL, "sqlite:"); ok && path != "" {
			path, _, _ = strings.Cut(path, "?")
			c.Media.Dir = filepath.Join(filepath.Dir(strings.TrimPrefix(path, "file:")), "media")
		}
	}
	errs = append(errs, c.Media.validate()...)
	return errors.Join(errs...)
}

// validateOIDC checks the [oidc] section and fills redirect_url.
func (c *Config) validateOIDC() []error {
	o := &c.OIDC
	if o.RedirectURL == "" {
		o.RedirectURL = c.Server.BaseURL + "/login/oidc/callback"
	}
	if !o.Enabled() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(o.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("oidc.issuer %q must be an https URL", o.Issuer))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("oidc.client_id is required when oidc.issuer is set"))
	}
	if u, err := url.Parse(o.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("oidc.redirect_url %q must be an absolute URL", o.RedirectURL))
	}
	if o.UsernameClaim == "" {
		errs = append(errs, errors.New("oidc.username_claim must not be empty"))
	}
	hasOpenID := false
	for _, sc := range o.Scopes {
		hasOpenID = hasOpenID || sc == "openid"
	}
	if !hasOpenID {
		errs = append(errs, errors.New(`oidc.scopes must include "openid"`))
	}
	return errs
}

// validateMail checks [smtp] and [notify].
func (c *Config) validateMail() []error {
	var errs []error
	m := c.SMTP
	switch m.StartTLS {
	case "required", "opportunistic", "none":
	default:
		errs = append(errs, fmt.Errorf("smtp.starttls %q: want \"required\", \"opportunistic\" or \"none\"", m.StartTLS))
	}
	if m.Enabled() {
		if m.Port <= 0 || m.Port > 65535 {
			errs = append(errs, fmt.Errorf("smtp.port %d is not a port", m.Port))
		}
		if !strings.Contains(m.From, "@") {
			errs = append(errs, fmt.Errorf("smtp.from %q must be an e-mail address", m.From))
		}
		if m.Password != "" && m.PasswordFile != "" {
			errs = append(errs, errors.New("smtp.password and smtp.password_file: set one, not both"))
		}
	}
	if a := c.Notify.Communications; a != "" && !strings.Contains(a, "@") {
		errs = append(errs, fmt.Errorf("notify.communications %q must be an e-mail address", a))
	}
	if c.Notify.SweepInterval.Duration <= 0 || c.Notify.RetryFor.Duration <= 0 {
		errs = append(errs, errors.New("notify.sweep_interval and notify.retry_for must be positive"))
	}
	return errs
}

func (m Media) validate() []error {
	var errs []error
	switch m.Storage {
	case "local":
		if m.Dir == "" {
			errs = append(errs, errors.New("media.dir is required when media.storage is \"local\""))
		}
	case "s3":
		if m.S3Endpoint == "" || m.S3Bucket == "" {
			errs = append(errs, errors.New("media.s3_endpoint and media.s3_bucket are required when media.storage is \"s3\""))
		}
		if strings.Contains(m.S3Endpoint, "://") {
			errs = append(errs, fmt.Errorf("media.s3_endpoint %q must be host[:port] without a scheme (see s3_use_tls)", m.S3Endpoint))
		}
		if m.S3Prefix != "" && !strings.HasSuffix(m.S3Prefix, "/") {
			errs = append(errs, fmt.Errorf("media.s3_prefix %q must end in /", m.S3Prefix))
		}
	default:
		errs = append(errs, fmt.Errorf("media.storage %q: want \"local\" or \"s3\"", m.Storage))
	}
	if m.MaxBytes <= 0 || m.MaxPixels <= 0 {
		errs = append(errs, errors.New("media.max_bytes and media.max_pixels must be positive"))
	}
	return errs
}

// Driver returns "sqlite" or "postgres" and checks the URL's form.
func (d Database) Driver() (string, error) {
	switch {
	case strings.HasPrefix(d.URL, "sqlite:"):
		if strings.TrimPrefix(d.URL, "sqlite:") == "" {
			return "", errors.New("database.url sqlite: needs a path")
		}
		return "sqlite", nil
	case strings.HasPrefix(d.URL, "postgres://"), strings.HasPrefix(d.URL, "postgresql://"):
		return "postgres", nil
	}
	return "", fmt.Errorf("database.url %q: want sqlite:PATH or postgres://…", d.URL)
}

// AllowedNets parses federation.allow_private_networks.
func (c *Config) AllowedNets() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Federation.AllowPrivateNetworks {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("federation.allow_private_networks: %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ReadFileIfSet is a small helper for optional file settings.
func ReadFileIfSet(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	return os.ReadFile(path)
}
