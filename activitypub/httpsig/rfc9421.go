package httpsig

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rfc9421Label is the label SignRFC9421 uses, as Fedify does.
const rfc9421Label = "sig1"

// SignRFC9421 signs an outgoing request with an RFC 9421 HTTP Message
// Signature the way Fedify does, for tests and for peers that prefer it
// (our own deliveries use Sign: snac2 discards RFC 9421-only signatures).
//
// It covers "@method" "@target-uri" and, when body is non-nil,
// "content-digest" (setting Content-Digest: sha-256=:…: per RFC 9530), with
// the parameters created (from now), keyid and alg="rsa-v1_5-sha256":
//
//	Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=…;keyid="…";alg="rsa-v1_5-sha256"
//	Signature: sig1=:base64:
//
// @target-uri is built from r.URL (scheme "https" when r.URL has none) with
// the host from r.Host, else r.URL.Host.
func SignRFC9421(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if err := prepareSign("SignRFC9421", r, keyID, key); err != nil {
		return err
	}
	scheme := r.URL.Scheme
	if scheme == "" {
		scheme = "https"
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	components := []string{"@method", "@target-uri"}
	if body != nil {
		r.Header.Set("Content-Digest", contentDigest(body))
		components = append(components, "content-digest")
	}
	var params strings.Builder
	params.WriteByte('(')
	for i, c := range components {
		if i > 0 {
			params.WriteByte(' ')
		}
		params.WriteString(sfString(c))
	}
	params.WriteString(");created=" + strconv.FormatInt(now.Unix(), 10))
	params.WriteString(";keyid=" + sfString(keyID))
	params.WriteString(`;alg="rsa-v1_5-sha256"`)

	var base strings.Builder
	for _, c := range components {
		base.WriteString(sfString(c) + ": ")
		switch c {
		case "@method":
			base.WriteString(method)
		case "@target-uri":
			base.WriteString(scheme + "://" + r.Host + r.URL.RequestURI())
		case "content-digest":
			base.WriteString(r.Header.Get("Content-Digest"))
		}
		base.WriteByte('\n')
	}
	base.WriteString(`"@signature-params": ` + params.String())

	sum := sha256.Sum256([]byte(base.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("httpsig: SignRFC9421: %w", err)
	}
	r.Header.Set("Signature-Input", rfc9421Label+"="+params.String())
	r.Header.Set("Signature", rfc9421Label+"="+sfBytes(sig))
	return nil
}

// verifyRFC9421 verifies an RFC 9421 signature; see VerifyRequest.
func verifyRFC9421(ctx context.Context, r *http.Request, body []byte, now time.Time, lookup KeyLookup, opt VerifyOptions) (Result, error) {
	inputs, err := parseDictionary(strings.Join(r.Header.Values("Signature-Input"), ", "))
	if err != nil {
		return Result{}, fmt.Errorf("%w: Signature-Input: %v", ErrMalformed, err)
	}
	if len(inputs) == 0 {
		return Result{}, fmt.Errorf("%w: empty Signature-Input", ErrMalformed)
	}
	sigHeader := r.Header.Values("Signature")
	if len(sigHeader) == 0 {
		return Result{}, fmt.Errorf("%w: Signature-Input without Signature", ErrMalformed)
	}
	sigs, err := parseDictionary(strings.Join(sigHeader, ", "))
	if err != nil {
		return Result{}, fmt.Errorf("%w: Signature: %v", ErrMalformed, err)
	}
	// Several signatures may be present (RFC 9421 §4.3, e.g. added by a
	// proxy); we check the first, which the originator put there.
	in := inputs[0]
	if !in.IsInner {
		return Result{}, fmt.Errorf("%w: %s is not an inner list", ErrMalformed, in.Key)
	}
	var sig []byte
	for _, s := range sigs {
		if s.Key == in.Key {
			b, ok := s.Item.Value.([]byte)
			if s.IsInner || !ok || len(b) == 0 {
				return Result{}, fmt.Errorf("%w: signature %s is not a byte sequence", ErrMalformed, s.Key)
			}
			sig = b
		}
	}
	if sig == nil {
		return Result{}, fmt.Errorf("%w: no signature labelled %s", ErrMalformed, in.Key)
	}

	var res Result
	res.Scheme = SchemeRFC9421
	kv, _ := in.param("keyid")
	keyID, ok := kv.(string)
	if !ok || keyID == "" {
		return res, fmt.Errorf("%w: keyid missing or not a string", ErrMalformed)
	}
	res.KeyID = keyID
	if av, present := in.param("alg"); present {
		a, ok := av.(string)
		if !ok {
			return res, fmt.Errorf("%w: alg is not a string", ErrMalformed)
		}
		res.Algorithm = a
	}
	switch res.Algorithm {
	case "", "rsa-v1_5-sha256", "ed25519":
	default:
		// rsa-pss-sha512, ecdsa-*, hmac-sha256: not used by fediverse peers.
		return res, fmt.Errorf("%w: alg %q", ErrUnsupported, res.Algorithm)
	}

	// Covered components: only plain names; component parameters (;sf,
	// ;key, ;bs, ;req, ;name) are not needed by any peer we talk to.
	covered := make([]string, 0, len(in.Inner))
	has := map[string]bool{}
	for _, it := range in.Inner {
		name, ok := it.Value.(string)
		if !ok || name == "" {
			return res, fmt.Errorf("%w: component identifier is not a string", ErrMalformed)
		}
		if len(it.Params) > 0 {
			return res, fmt.Errorf("%w: component parameters on %q", ErrUnsupported, name)
		}
		if name != strings.ToLower(name) {
			return res, fmt.Errorf("%w: component %q is not lowercase", ErrMalformed, name)
		}
		if has[name] {
			return res, fmt.Errorf("%w: component %q covered twice", ErrMalformed, name)
		}
		has[name] = true
		covered = append(covered, name)
	}
	if !has["@method"] {
		return res, fmt.Errorf("%w: @method not covered", ErrMissingHeader)
	}
	if !has["@target-uri"] && !(has["@authority"] && (has["@path"] || has["@request-target"])) {
		return res, fmt.Errorf("%w: neither @target-uri nor @authority with @path covered", ErrMissingHeader)
	}
	if opt.needDigest(r, body) && !has["content-digest"] {
		return res, fmt.Errorf("%w: content-digest not covered", ErrMissingHeader)
	}

	// created is mandatory for us: it is what bounds replay (RFC 9421 §7.2.2).
	cv, present := in.param("created")
	created, ok := cv.(int64)
	if !present {
		return res, fmt.Errorf("%w: no created parameter", ErrMissingHeader)
	}
	if !ok {
		return res, fmt.Errorf("%w: created is not an integer", ErrMalformed)
	}
	if !opt.inWindow(time.Unix(created, 0), now) {
		return res, fmt.Errorf("%w: created %d", ErrDate, created)
	}
	if ev, present := in.param("expires"); present {
		exp, ok := ev.(int64)
		if !ok {
			return res, fmt.Errorf("%w: expires is not an integer", ErrMalformed)
		}
		if now.After(time.Unix(exp, 0)) {
			return res, fmt.Errorf("%w: expired at %d", ErrDate, exp)
		}
	}
	if has["date"] {
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil || !opt.inWindow(d, now) {
			return res, fmt.Errorf("%w: Date %q", ErrDate, r.Header.Get("Date"))
		}
	}

	// The scheme of @target-uri is not on the wire. Take it from the
	// request URL (absolute form), TLS, or X-Forwarded-Proto; if none says,
	// try https first (fediverse peers sign https URIs) and then http.
	schemes := []string{"https", "http"}
	if r.URL.Scheme != "" {
		schemes = []string{strings.ToLower(r.URL.Scheme)}
	} else if r.TLS != nil {
		schemes = []string{"https"}
	} else if xfp := r.Header.Get("X-Forwarded-Proto"); xfp != "" {
		first, _, _ := strings.Cut(xfp, ",")
		schemes = []string{strings.ToLower(strings.TrimSpace(first))}
	}
	if !has["@target-uri"] && !has["@scheme"] {
		schemes = schemes[:1] // the base does not depend on it
	}
	bases := make([][]byte, 0, len(schemes))
	for _, scheme := range schemes {
		b, err := rfc9421Base(r, covered, in.Raw, scheme)
		if err != nil {
			return res, err
		}
		bases = append(bases, b)
	}

	if has["content-digest"] {
		if err := verifyContentDigest(r.Header.Values("Content-Digest"), body); err != nil {
			return res, err
		}
	}
	if has["digest"] { // a legacy Digest header, if covered, must match too
		if err := verifyDigestHeader(r.Header.Values("Digest"), body); err != nil {
			return res, err
		}
	}

	err = verifyWithLookup(ctx, keyID, lookup, func(key crypto.PublicKey) error {
		var last error
		for _, b := range bases {
			if last = verifyRFC9421Sig(key, res.Algorithm, b, sig); last == nil {
				return nil
			}
		}
		return last
	})
	return res, err
}

// verifyRFC9421Sig checks a signature under key with an RFC 9421 alg
// (§3.3), deriving it from the key type when the signer left alg out.
func verifyRFC9421Sig(key crypto.PublicKey, alg string, msg, sig []byte) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg != "" && alg != "rsa-v1_5-sha256" {
			return fmt.Errorf("%w: alg %s with an RSA key", ErrUnsupported, alg)
		}
		return verifyRSA(k, msg, sig)
	case ed25519.PublicKey:
		if alg != "" && alg != "ed25519" {
			return fmt.Errorf("%w: alg %s with an Ed25519 key", ErrUnsupported, alg)
		}
		return verifyEd25519(k, msg, sig)
	case *ed25519.PublicKey:
		if (alg != "" && alg != "ed25519") || k == nil {
			return fmt.Errorf("%w: alg %s with an Ed25519 key", ErrUnsupported, alg)
		}
		return verifyEd25519(*k, msg, sig)
	}
	return fmt.Errorf("%w: key type %T", ErrUnsupported, key)
}

// rfc9421Base builds the signature base of RFC 9421 §2.5: one line
// `"name": value` per covered component, then the "@signature-params" line,
// whose value is the Signature-Input member exactly as received.
func rfc9421Base(r *http.Request, covered []string, rawParams, scheme string) ([]byte, error) {
	var b strings.Builder
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	for _, c := range covered {
		var v string
		switch c {
		case "@method":
			v = r.Method
			if v == "" {
				v = http.MethodGet
			}
		case "@target-uri":
			v = scheme + "://" + host + r.URL.RequestURI()
		case "@authority":
			v = normalizeAuthority(host, scheme)
		case "@scheme":
			v = scheme
		case "@path":
			v = r.URL.EscapedPath()
			if v == "" {
				v = "/"
			}
		case "@query":
			v = "?" + r.URL.RawQuery
		case "@request-target":
			v = r.URL.RequestURI()
		case "@signature-params":
			return nil, fmt.Errorf("%w: @signature-params covered", ErrMalformed)
		case "@status":
			return nil, fmt.Errorf("%w: @status in a request", ErrMalformed)
		default:
			if strings.HasPrefix(c, "@") {
				return nil, fmt.Errorf("%w: component %s", ErrUnsupported, c)
			}
			if c == "host" && r.Header.Get("Host") == "" {
				v = host
				break
			}
			vs := r.Header.Values(c)
			if len(vs) == 0 {
				return nil, fmt.Errorf("%w: %s is covered but absent", ErrMissingHeader, c)
			}
			v = joinValues(vs)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("%w: newline in %s", ErrMalformed, c)
		}
		b.WriteString(sfString(c))
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(rawParams)
	return []byte(b.String()), nil
}

// normalizeAuthority lowercases the host and drops the scheme's default
// port (RFC 9421 §2.2.3).
func normalizeAuthority(host, scheme string) string {
	host = strings.ToLower(host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}
