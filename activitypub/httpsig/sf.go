package httpsig

// A small parser for the parts of RFC 8941 structured fields that RFC 9421
// (Signature-Input, Signature) and RFC 9530 (Content-Digest) use:
// dictionaries whose members are items or inner lists, with parameters.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var errSF = errors.New("structured field")

type sfToken string

type sfParam struct {
	Key   string
	Value any // string, sfToken, int64, float64, []byte, bool
}

type sfItem struct {
	Value  any
	Params []sfParam
}

type sfMember struct {
	Key     string
	IsInner bool
	Item    sfItem   // when !IsInner
	Inner   []sfItem // when IsInner
	Params  []sfParam
	// Raw is the member's value exactly as it appeared (inner list and
	// parameters); RFC 9421 signs the "@signature-params" line from it.
	Raw string
}

func (m sfMember) param(key string) (any, bool) {
	ps := m.Params
	if !m.IsInner {
		ps = m.Item.Params
	}
	for _, p := range ps {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) errf(format string, a ...any) error {
	return fmt.Errorf("%w: %s at %d", errSF, fmt.Sprintf(format, a...), p.i)
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// parseDictionary parses an RFC 8941 §4.2.2 dictionary. Unlike the RFC,
// which lets a later duplicate key win, a duplicate is an error: for
// signatures an ambiguous header must not verify.
func parseDictionary(s string) ([]sfMember, error) {
	p := &sfParser{s: s}
	p.skipSP()
	var out []sfMember
	seen := map[string]bool{}
	for !p.eof() {
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, p.errf("duplicate key %q", key)
		}
		seen[key] = true
		m := sfMember{Key: key}
		start := p.i
		if !p.eof() && p.s[p.i] == '=' {
			p.i++
			start = p.i
			if !p.eof() && p.s[p.i] == '(' {
				m.IsInner = true
				if m.Inner, err = p.parseInnerList(); err != nil {
					return nil, err
				}
				if m.Params, err = p.parseParams(); err != nil {
					return nil, err
				}
			} else {
				if m.Item, err = p.parseItem(); err != nil {
					return nil, err
				}
			}
		} else {
			m.Item.Value = true
			if m.Item.Params, err = p.parseParams(); err != nil {
				return nil, err
			}
		}
		m.Raw = p.s[start:p.i]
		out = append(out, m)
		p.skipOWS()
		if p.eof() {
			break
		}
		if p.s[p.i] != ',' {
			return nil, p.errf("expected ','")
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, p.errf("trailing ','")
		}
	}
	return out, nil
}

func (p *sfParser) parseKey() (string, error) {
	if p.eof() {
		return "", p.errf("expected key")
	}
	c := p.s[p.i]
	if !(c >= 'a' && c <= 'z' || c == '*') {
		return "", p.errf("bad key start %q", c)
	}
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) parseInnerList() ([]sfItem, error) {
	p.i++ // '('
	var items []sfItem
	for {
		p.skipSP()
		if p.eof() {
			return nil, p.errf("unterminated inner list")
		}
		if p.s[p.i] == ')' {
			p.i++
			return items, nil
		}
		it, err := p.parseItem()
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		if p.eof() || (p.s[p.i] != ' ' && p.s[p.i] != ')') {
			return nil, p.errf("bad inner list")
		}
	}
}

func (p *sfParser) parseItem() (sfItem, error) {
	v, err := p.parseBareItem()
	if err != nil {
		return sfItem{}, err
	}
	ps, err := p.parseParams()
	if err != nil {
		return sfItem{}, err
	}
	return sfItem{Value: v, Params: ps}, nil
}

func (p *sfParser) parseParams() ([]sfParam, error) {
	var ps []sfParam
	for !p.eof() && p.s[p.i] == ';' {
		p.i++
		p.skipSP()
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		var v any = true
		if !p.eof() && p.s[p.i] == '=' {
			p.i++
			if v, err = p.parseBareItem(); err != nil {
				return nil, err
			}
		}
		for j := range ps {
			if ps[j].Key == key {
				return nil, p.errf("duplicate parameter %q", key)
			}
		}
		ps = append(ps, sfParam{Key: key, Value: v})
	}
	return ps, nil
}

func (p *sfParser) parseBareItem() (any, error) {
	if p.eof() {
		return nil, p.errf("expected item")
	}
	c := p.s[p.i]
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return p.parseNumber()
	case c == '"':
		return p.parseString()
	case c == ':':
		return p.parseBytes()
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			p.i += 2
			return p.s[p.i-1] == '1', nil
		}
		return nil, p.errf("bad boolean")
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*':
		start := p.i
		for !p.eof() {
			c := p.s[p.i]
			if c > ' ' && c < 0x7f && !strings.ContainsRune(`"(),;<=>?@[\]{}`, rune(c)) {
				p.i++
				continue
			}
			break
		}
		return sfToken(p.s[start:p.i]), nil
	}
	return nil, p.errf("unexpected %q", c)
}

func (p *sfParser) parseNumber() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	dot := false
	for !p.eof() {
		c := p.s[p.i]
		if c >= '0' && c <= '9' {
			p.i++
		} else if c == '.' && !dot {
			dot = true
			p.i++
		} else {
			break
		}
	}
	lit := p.s[start:p.i]
	if dot {
		if len(lit) > 16 {
			return nil, p.errf("decimal too long")
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil || strings.HasSuffix(lit, ".") {
			return nil, p.errf("bad decimal")
		}
		return f, nil
	}
	if len(strings.TrimPrefix(lit, "-")) == 0 || len(lit) > 16 {
		return nil, p.errf("bad integer")
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return nil, p.errf("bad integer")
	}
	return n, nil
}

func (p *sfParser) parseString() (string, error) {
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return "", p.errf("bad escape")
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", p.errf("bad string character")
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errf("unterminated string")
}

func (p *sfParser) parseBytes() ([]byte, error) {
	p.i++
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return nil, p.errf("unterminated byte sequence")
	}
	b, err := decodeBase64(p.s[p.i : p.i+end])
	if err != nil {
		return nil, p.errf("bad base64")
	}
	p.i += end + 1
	return b, nil
}

// sfString serialises s as an RFC 8941 string.
func sfString(s string) string {
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

func sfBytes(b []byte) string {
	return ":" + base64.StdEncoding.EncodeToString(b) + ":"
}
