// Package mastosig signs and verifies HTTP requests the way Mastodon does
// (draft-cavage rsa-sha256). It is an implementation independent of
// torget's activitypub/httpsig, so that tests check our signing with other
// code than our own.
package mastosig

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxClockSkew is how far a signed Date may lie from now, either way.
const MaxClockSkew = time.Hour

// Params are the parameters of a Signature header.
type Params map[string]string

// ParseSignature parses the value of a Signature header (or the part of an
// Authorization header after "Signature "): comma-separated name="value"
// pairs; names are case-insensitive, quoted values may contain escaped
// characters.
func ParseSignature(v string) (Params, error) {
	p := Params{}
	i := 0
	for i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		eq := strings.IndexByte(v[i:], '=')
		if eq < 0 {
			return nil, fmt.Errorf("signature parameter without '=' at %q", v[i:])
		}
		name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
		i += eq + 1
		var val strings.Builder
		if i < len(v) && v[i] == '"' {
			i++
			closed := false
			for i < len(v) {
				c := v[i]
				if c == '\\' && i+1 < len(v) {
					val.WriteByte(v[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted value for %q", name)
			}
		} else {
			j := strings.IndexByte(v[i:], ',')
			if j < 0 {
				j = len(v) - i
			}
			val.WriteString(strings.TrimSpace(v[i : i+j]))
			i += j
		}
		if name == "" {
			return nil, errors.New("empty signature parameter name")
		}
		if _, dup := p[name]; dup {
			return nil, fmt.Errorf("duplicate signature parameter %q", name)
		}
		p[name] = val.String()
	}
	return p, nil
}

// SignatureHeader returns the signature parameters of r, taken from the
// Signature header or from "Authorization: Signature …".
func SignatureHeader(r *http.Request) (Params, error) {
	v := r.Header.Get("Signature")
	if v == "" {
		a := r.Header.Get("Authorization")
		if len(a) > 10 && strings.EqualFold(a[:10], "signature ") {
			v = a[10:]
		}
	}
	if v == "" {
		return nil, errors.New("request is not signed (no Signature header)")
	}
	p, err := ParseSignature(v)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"keyid", "signature"} {
		if p[k] == "" {
			return nil, fmt.Errorf("signature lacks %s", k)
		}
	}
	switch alg := strings.ToLower(p["algorithm"]); alg {
	case "", "rsa-sha256", "hs2019":
	default:
		return nil, fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	return p, nil
}

// SignedHeaders returns the lower-cased names listed in p's headers
// parameter ("date" when absent, as draft-cavage says).
func (p Params) SignedHeaders() []string {
	h := p["headers"]
	if strings.TrimSpace(h) == "" {
		return []string{"date"}
	}
	return strings.Fields(strings.ToLower(h))
}

// CheckStructure applies Mastodon's checks that need no key: the required
// headers are signed, the Date is fresh, (created)/(expires) are sane.
func (p Params) CheckStructure(r *http.Request, required []string, now time.Time) error {
	signed := p.SignedHeaders()
	has := map[string]bool{}
	for _, h := range signed {
		has[h] = true
	}
	for _, req := range required {
		if !has[req] {
			return fmt.Errorf("signed headers %q do not include %s", strings.Join(signed, " "), req)
		}
	}
	if has["date"] {
		d := r.Header.Get("Date")
		if d == "" {
			return errors.New("date is signed but the Date header is missing")
		}
		t, err := http.ParseTime(d)
		if err != nil {
			return fmt.Errorf("unparseable Date %q: %v", d, err)
		}
		if skew := now.Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
			return fmt.Errorf("header Date %q is outside ±%v of now", d, MaxClockSkew)
		}
	}
	if has["(created)"] {
		c, err := strconv.ParseInt(p["created"], 10, 64)
		if err != nil {
			return fmt.Errorf("bad created parameter %q", p["created"])
		}
		if time.Unix(c, 0).After(now.Add(MaxClockSkew)) {
			return errors.New("created lies in the future")
		}
	}
	if has["(expires)"] {
		e, err := strconv.ParseInt(p["expires"], 10, 64)
		if err != nil {
			return fmt.Errorf("bad expires parameter %q", p["expires"])
		}
		if time.Unix(e, 0).Before(now) {
			return errors.New("signature has expired")
		}
	}
	return nil
}

// SigningString rebuilds the string the signer signed.
func (p Params) SigningString(r *http.Request) (string, error) {
	var lines []string
	for _, h := range p.SignedHeaders() {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		case "(created)":
			v = p["created"]
		case "(expires)":
			v = p["expires"]
		case "host":
			v = r.Host
		default:
			vals := r.Header.Values(h)
			if len(vals) == 0 {
				return "", fmt.Errorf("signed header %q is missing from the request", h)
			}
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			v = strings.Join(vals, ", ")
		}
		lines = append(lines, h+": "+v)
	}
	return strings.Join(lines, "\n"), nil
}

// CheckDigest checks that a Digest header carries SHA-256 of body.
func CheckDigest(r *http.Request, body []byte) error {
	d := r.Header.Get("Digest")
	if d == "" {
		return errors.New("header Digest missing")
	}
	sum := sha256.Sum256(body)
	for _, part := range strings.Split(d, ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(alg, "SHA-256") {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return fmt.Errorf("header Digest: SHA-256 value is not base64: %v", err)
		}
		if string(got) != string(sum[:]) {
			return errors.New("header Digest: SHA-256 does not match the body")
		}
		return nil
	}
	return fmt.Errorf("header Digest %q has no SHA-256 value", d)
}

// VerifyRSA checks an RSASSA-PKCS1-v1_5 SHA-256 signature.
func VerifyRSA(pub *rsa.PublicKey, SigningString, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("signature is not base64: %v", err)
	}
	h := sha256.Sum256([]byte(SigningString))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return fmt.Errorf("RSA signature does not verify over %q", SigningString)
	}
	return nil
}

// ParsePublicKeyPEM decodes an RSA public key from SPKI ("PUBLIC KEY") or
// PKCS#1 ("RSA PUBLIC KEY") PEM.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("publicKeyPem is not PEM")
	}
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, not RSA", k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	}
	return nil, fmt.Errorf("unexpected PEM block %q", b.Type)
}

// SignRequest adds Date (if absent) and a Signature header over headers to
// req, signing with key under keyID and algorithm alg.
func SignRequest(req *http.Request, key *rsa.PrivateKey, keyID, alg string, headers []string) error {
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	var lines []string
	for _, h := range headers {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(req.Method) + " " + req.URL.RequestURI()
		case "host":
			v = req.Host
		default:
			v = req.Header.Get(h)
		}
		lines = append(lines, h+": "+v)
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return err
	}
	req.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		keyID, alg, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// CheckPost applies Mastodon's key-independent checks to an inbox POST
// ((request-target) host date digest signed, Date fresh, Digest matching
// the body) and returns the string the signer signed.
func CheckPost(r *http.Request, p Params, body []byte) (string, error) {
	if err := p.CheckStructure(r, []string{"(request-target)", "host", "date", "digest"}, time.Now()); err != nil {
		return "", err
	}
	if err := CheckDigest(r, body); err != nil {
		return "", err
	}
	return p.SigningString(r)
}
