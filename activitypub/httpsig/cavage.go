package httpsig

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cavageParams is a parsed draft-cavage Signature (or Authorization:
// Signature) header.
type cavageParams struct {
	KeyID      string
	Algorithm  string   // as given; "" when absent
	Headers    []string // lowercased; defaulted when HeadersSet is false
	HeadersSet bool
	Signature  []byte
	Created    int64
	HasCreated bool
	Expires    int64
	HasExpires bool
}

// defaultHeaders is what a verifier must assume when the headers parameter
// is absent. draft-cavage up to -10 said "date"; -11/-12 changed it to
// "(created)". Either way the result fails our minimum-header rule, which is
// the point: a signature that covers only the date authenticates nothing
// (GoToSocial accepted such signatures; see INTEROP.md).
var defaultHeaders = []string{"date"}

// parseCavage parses the parameter list of a draft-cavage signature:
//
//	keyId="…",algorithm="rsa-sha256",headers="(request-target) host date",signature="…"
//
// Values are quoted strings (a backslash escapes the next character) or
// bare tokens (created=1402170695). Parameter names are matched
// case-insensitively, unknown parameters are ignored (draft §2.1: "…MUST
// ignore unknown parameters"), and a repeated parameter makes the header
// malformed, since which copy a peer would honour is ambiguous.
func parseCavage(s string) (*cavageParams, error) {
	p := &cavageParams{}
	seen := map[string]bool{}
	i := 0
	n := len(s)
	skipWS := func() {
		for i < n && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipWS()
		if i >= n {
			break
		}
		if s[i] == ',' { // tolerate empty list elements
			i++
			continue
		}
		start := i
		for i < n && isTokenChar(s[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("%w: unexpected %q at %d", ErrMalformed, s[i], i)
		}
		name := strings.ToLower(s[start:i])
		skipWS()
		if i >= n || s[i] != '=' {
			return nil, fmt.Errorf("%w: parameter %q has no value", ErrMalformed, name)
		}
		i++
		skipWS()
		var val string
		if i < n && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < n {
				c := s[i]
				if c == '\\' && i+1 < n {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrMalformed)
			}
			val = b.String()
		} else {
			start := i
			for i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t' && s[i] != '"' {
				i++
			}
			val = s[start:i]
		}
		skipWS()
		if i < n {
			if s[i] != ',' {
				return nil, fmt.Errorf("%w: expected ',' at %d", ErrMalformed, i)
			}
			i++
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: duplicate parameter %q", ErrMalformed, name)
		}
		seen[name] = true
		switch name {
		case "keyid":
			p.KeyID = val
		case "algorithm":
			p.Algorithm = val
		case "headers":
			p.HeadersSet = true
			p.Headers = strings.Fields(strings.ToLower(val))
		case "signature":
			sig, err := decodeBase64(val)
			if err != nil {
				return nil, fmt.Errorf("%w: signature is not base64", ErrMalformed)
			}
			p.Signature = sig
		case "created", "expires":
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: %s is not a timestamp", ErrMalformed, name)
			}
			if name == "created" {
				p.Created, p.HasCreated = v, true
			} else {
				p.Expires, p.HasExpires = v, true
			}
		}
	}
	if p.KeyID == "" {
		return nil, fmt.Errorf("%w: no keyId", ErrMalformed)
	}
	if len(p.Signature) == 0 {
		return nil, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	if !p.HeadersSet {
		p.Headers = append([]string(nil), defaultHeaders...)
	}
	if p.Headers == nil {
		p.Headers = []string{}
	}
	return p, nil
}

// String serialises p in the form Mastodon sends. parseCavage(p.String())
// yields p again.
func (p *cavageParams) String() string {
	var b strings.Builder
	b.WriteString("keyId=")
	b.WriteString(quote(p.KeyID))
	if p.Algorithm != "" {
		b.WriteString(",algorithm=")
		b.WriteString(quote(p.Algorithm))
	}
	if p.HasCreated {
		b.WriteString(",created=" + strconv.FormatInt(p.Created, 10))
	}
	if p.HasExpires {
		b.WriteString(",expires=" + strconv.FormatInt(p.Expires, 10))
	}
	if p.HeadersSet {
		b.WriteString(",headers=")
		b.WriteString(quote(strings.Join(p.Headers, " ")))
	}
	b.WriteString(",signature=")
	b.WriteString(quote(base64.StdEncoding.EncodeToString(p.Signature)))
	return b.String()
}

func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// requestTarget is the draft-cavage "(request-target)" value: the lowercase
// method, a space and the path with its query (draft §2.3). The query is
// part of it; Fedify leaves it out, which is why ids that are fetched with
// signatures must not carry one (INTEROP.md).
func requestTarget(r *http.Request) string {
	m := r.Method
	if m == "" {
		m = http.MethodGet
	}
	return strings.ToLower(m) + " " + r.URL.RequestURI()
}

// hostOf returns the host that was (or will be) sent: an explicit Host
// header, else r.Host (where Go's server puts it), else r.URL.Host (what
// Go's client sends when r.Host is empty).
func hostOf(r *http.Request) string {
	if h := r.Header.Values("Host"); len(h) > 0 {
		return joinValues(h)
	}
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}

// joinValues joins repeated header fields with ", " as draft-cavage §2.3
// requires, trimming surrounding whitespace of each value.
func joinValues(vs []string) string {
	if len(vs) == 1 {
		return strings.TrimSpace(vs[0])
	}
	t := make([]string, len(vs))
	for i, v := range vs {
		t[i] = strings.TrimSpace(v)
	}
	return strings.Join(t, ", ")
}

// cavageSigningString builds the string the signature covers: one
// "name: value" line per listed header, joined by "\n" (draft §2.3).
func cavageSigningString(r *http.Request, p *cavageParams) (string, error) {
	var b strings.Builder
	for i, h := range p.Headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case "(request-target)":
			b.WriteString(requestTarget(r))
		case "(created)":
			if !p.HasCreated {
				return "", fmt.Errorf("%w: (created) signed but no created parameter", ErrMalformed)
			}
			b.WriteString(strconv.FormatInt(p.Created, 10))
		case "(expires)":
			if !p.HasExpires {
				return "", fmt.Errorf("%w: (expires) signed but no expires parameter", ErrMalformed)
			}
			b.WriteString(strconv.FormatInt(p.Expires, 10))
		case "host":
			host := hostOf(r)
			if host == "" {
				return "", fmt.Errorf("%w: host", ErrMissingHeader)
			}
			b.WriteString(host)
		default:
			vs := r.Header.Values(h)
			if len(vs) == 0 {
				return "", fmt.Errorf("%w: %s is signed but absent", ErrMissingHeader, h)
			}
			b.WriteString(joinValues(vs))
		}
	}
	return b.String(), nil
}

// Sign signs an outgoing request the way Mastodon does:
// draft-cavage-http-signatures-12 with algorithm="rsa-sha256".
//
// It sets Date (http.TimeFormat, from now in UTC) and r.Host (from r.Host,
// else r.URL.Host: the value Go's client will send). When body is non-nil it
// sets Digest: Digest(body) and signs "(request-target) host date digest",
// which Fedify requires for POST; when body is nil it signs
// "(request-target) host date" (GoToSocial and Mastodon in authorized-fetch
// mode require signed GETs). The resulting header is
//
//	Signature: keyId="…",algorithm="rsa-sha256",headers="…",signature="…"
//
// Re-sign every retry: peers accept a Date only within about an hour.
func Sign(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if err := prepareSign("Sign", r, keyID, key); err != nil {
		return err
	}
	if r.Host == "" {
		return errors.New("httpsig: Sign: request has no host")
	}
	r.Header.Del("Host") // Go's client ignores it; r.Host is what is sent
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	p := &cavageParams{
		KeyID:      keyID,
		Algorithm:  "rsa-sha256",
		Headers:    []string{"(request-target)", "host", "date"},
		HeadersSet: true,
	}
	if body != nil {
		r.Header.Set("Digest", Digest(body))
		p.Headers = append(p.Headers, "digest")
	}
	ss, err := cavageSigningString(r, p)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(ss))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("httpsig: Sign: %w", err)
	}
	p.Signature = sig
	r.Header.Set("Signature", p.String())
	return nil
}

// prepareSign checks what both signing schemes need and fills r.Host from
// the URL when it is empty.
func prepareSign(fn string, r *http.Request, keyID string, key *rsa.PrivateKey) error {
	if r == nil || r.URL == nil {
		return errors.New("httpsig: " + fn + ": request has no URL")
	}
	if key == nil || keyID == "" {
		return errors.New("httpsig: " + fn + ": no key")
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	return nil
}
