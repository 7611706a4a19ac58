package archive

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Check verifies a package folder against the structural rules of FGS
// Paketstruktur 2.0 (E-ARK CSIP/SIP 2.1.0) that torget relies on, without
// any tool outside Go: METS.xml at the root, mets/@OBJID equal to the
// folder name, a SIP metsHdr with the software, archival-creator and
// submitter agents, the required folders, and for the root METS and every
// representation METS it points to: every file and metadata reference has
// a SHA-256 checksum and size that match the file, stays inside the
// package, and every file of the package is listed by some METS.xml. The
// shared validator (xmllint + Schematron) checks the schemas and rules on
// top; .ci/run runs it.
func Check(dir string) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	root, err := readMETS(filepath.Join(dir, "METS.xml"))
	if err != nil {
		return fmt.Errorf("CSIPSTR4 root METS.xml: %w", err)
	}
	if root.XMLName.Space != metsNS || root.XMLName.Local != "mets" {
		bad("CSIP root element is {%s}%s, want {%s}mets", root.XMLName.Space, root.XMLName.Local, metsNS)
	}
	if root.OBJID != filepath.Base(filepath.Clean(dir)) {
		bad("CSIP1 mets/@OBJID %q differs from the package folder name %q", root.OBJID, filepath.Base(dir))
	}
	if root.Profile != "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml" {
		bad("SIP2 mets/@PROFILE is %q", root.Profile)
	}
	if root.Hdr.PackageType != "SIP" {
		bad("FGS-SIP metsHdr/@csip:OAISPACKAGETYPE is %q, want SIP", root.Hdr.PackageType)
	}
	var software, archivist, submitter int
	for _, a := range root.Hdr.Agents {
		named := strings.TrimSpace(a.Name) != ""
		switch {
		case a.Role == "CREATOR" && a.Type == "OTHER" && a.OtherType == "SOFTWARE" && named && a.noteOf("SOFTWARE VERSION") != "":
			software++
		case a.Role == "ARCHIVIST" && (a.Type == "ORGANIZATION" || a.Type == "INDIVIDUAL") && named && a.noteOf("IDENTIFICATIONCODE") != "":
			archivist++
		case a.Role == "CREATOR" && (a.Type == "ORGANIZATION" || a.Type == "INDIVIDUAL") && named:
			submitter++
		}
	}
	if software != 1 {
		bad("FGS-AGENT-SOFTWARE %d software agents, want exactly 1", software)
	}
	if archivist != 1 {
		bad("FGS-AGENT-ARCHIVIST %d archival-creator agents with an identification code, want exactly 1", archivist)
	}
	if submitter < 1 {
		bad("FGS-AGENT-SUBMITTER no submitter agent")
	}
	for _, d := range []string{"metadata", "representations", "schemas", "documentation"} {
		if st, err := os.Stat(filepath.Join(dir, d)); err != nil || !st.IsDir() {
			bad("CSIPSTR the package has no %s/ folder", d)
		}
	}
	listed := map[string]bool{"METS.xml": true}
	hasDoc := false
	for _, g := range root.FileGrps {
		hasDoc = hasDoc || g.Use == "Documentation"
	}
	if !hasDoc {
		bad("CSIP60 no Documentation file group")
	}
	errs = append(errs, checkRefs(dir, "", root, listed)...)
	for _, m := range root.mptrs() {
		rel, err := inside(m)
		if err != nil {
			bad("mptr %q: %v", m, err)
			continue
		}
		rep, err := readMETS(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			bad("representation METS %s: %v", rel, err)
			continue
		}
		if !listed[rel] {
			bad("FGS-SHA256 representation METS %s is not in the root fileSec", rel)
		}
		errs = append(errs, checkRefs(dir, path.Dir(rel), rep, listed)...)
	}
	if len(root.mptrs()) == 0 {
		bad("CSIP105 no representation (structMap mptr)")
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !listed[filepath.ToSlash(rel)] {
			bad("FGS-SHA256 %s: no METS.xml lists it", filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkRefs checks every file and mdRef of one METS document; base is the
// document's folder relative to the package root.
func checkRefs(dir, base string, m *metsDoc, listed map[string]bool) []error {
	var errs []error
	type ref struct{ id, href, size, sum, typ string }
	var refs []ref
	for _, md := range m.mdRefs() {
		refs = append(refs, ref{md.ID, md.Href, md.Size, md.Checksum, md.ChecksumType})
	}
	for _, g := range m.FileGrps {
		for _, f := range g.Files {
			refs = append(refs, ref{f.ID, f.FLocat.Href, f.Size, f.Checksum, f.ChecksumType})
		}
	}
	for _, r := range refs {
		rel, err := inside(path.Join(base, r.href))
		if err != nil || r.href == "" {
			errs = append(errs, fmt.Errorf("%s: href %q leaves the package or is empty", r.id, r.href))
			continue
		}
		listed[rel] = true
		if r.typ != "SHA-256" || r.sum == "" {
			errs = append(errs, fmt.Errorf("FGS-SHA256 %s (%s): checksum type %q, want SHA-256 with a value", r.id, rel, r.typ))
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s is missing", r.id, rel))
			continue
		}
		if n, err := strconv.ParseInt(r.size, 10, 64); err != nil || n != st.Size() {
			errs = append(errs, fmt.Errorf("%s: %s SIZE %q, file has %d bytes", r.id, rel, r.size, st.Size()))
		}
		sum, err := fileSHA256(p)
		if err != nil {
			errs = append(errs, err)
		} else if sum != strings.ToLower(r.sum) {
			errs = append(errs, fmt.Errorf("FGS-SHA256 %s: %s checksum mismatch: METS %s, file %s", r.id, rel, r.sum, sum))
		}
	}
	return errs
}

// inside cleans a package-relative slash path and refuses one that leaves
// the package.
func inside(p string) (string, error) {
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
		return "", errors.New("outside the package")
	}
	return c, nil
}

const (
	metsNS  = "http://www.loc.gov/METS/"
	xlinkNS = "http://www.w3.org/1999/xlink"
	csipNS  = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
)

type metsDoc struct {
	XMLName xml.Name
	OBJID   string `xml:"OBJID,attr"`
	Profile string `xml:"PROFILE,attr"`
	Hdr     struct {
		PackageType string  `xml:"https://DILCIS.eu/XML/METS/CSIPExtensionMETS OAISPACKAGETYPE,attr"`
		Agents      []agent `xml:"agent"`
	} `xml:"metsHdr"`
	Dmd []struct {
		MdRef mdRef `xml:"mdRef"`
	} `xml:"dmdSec"`
	Amd []struct {
		Sections []struct {
			MdRef *mdRef `xml:"mdRef"`
		} `xml:",any"`
	} `xml:"amdSec"`
	FileGrps []struct {
		Use   string `xml:"USE,attr"`
		Files []struct {
			ID           string `xml:"ID,attr"`
			Size         string `xml:"SIZE,attr"`
			Checksum     string `xml:"CHECKSUM,attr"`
			ChecksumType string `xml:"CHECKSUMTYPE,attr"`
			FLocat       struct {
				Href string `xml:"http://www.w3.org/1999/xlink href,attr"`
			} `xml:"FLocat"`
		} `xml:"file"`
	} `xml:"fileSec>fileGrp"`
	StructMaps []struct {
		Divs []div `xml:"div"`
	} `xml:"structMap"`
}

type agent struct {
	Role      string `xml:"ROLE,attr"`
	Type      string `xml:"TYPE,attr"`
	OtherType string `xml:"OTHERTYPE,attr"`
	Name      string `xml:"name"`
	Notes     []struct {
		Type string `xml:"https://DILCIS.eu/XML/METS/CSIPExtensionMETS NOTETYPE,attr"`
		Text string `xml:",chardata"`
	} `xml:"note"`
}

func (a agent) noteOf(typ string) string {
	for _, n := range a.Notes {
		if n.Type == typ {
			return strings.TrimSpace(n.Text)
		}
	}
	return ""
}

type mdRef struct {
	ID           string `xml:"ID,attr"`
	Href         string `xml:"http://www.w3.org/1999/xlink href,attr"`
	Size         string `xml:"SIZE,attr"`
	Checksum     string `xml:"CHECKSUM,attr"`
	ChecksumType string `xml:"CHECKSUMTYPE,attr"`
}

type div struct {
	Mptrs []struct {
		Href string `xml:"http://www.w3.org/1999/xlink href,attr"`
	} `xml:"mptr"`
	Divs []div `xml:"div"`
}

func (m *metsDoc) mdRefs() []mdRef {
	var out []mdRef
	for _, d := range m.Dmd {
		out = append(out, d.MdRef)
	}
	for _, a := range m.Amd {
		for _, s := range a.Sections {
			if s.MdRef != nil {
				out = append(out, *s.MdRef)
			}
		}
	}
	return out
}

func (m *metsDoc) mptrs() []string {
	var out []string
	var walk func(ds []div)
	walk = func(ds []div) {
		for _, d := range ds {
			for _, p := range d.Mptrs {
				out = append(out, p.Href)
			}
			walk(d.Divs)
		}
	}
	for _, s := range m.StructMaps {
		walk(s.Divs)
	}
	return out
}

func readMETS(p string) (*metsDoc, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var m metsDoc
	if err := xml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Base(p), err)
	}
	return &m, nil
}
