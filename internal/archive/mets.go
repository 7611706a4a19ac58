package archive

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/torget/torget/internal/store"
)

// esc escapes text for XML content and attribute values.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const metsOpen = `<?xml version="1.0" encoding="UTF-8"?>
<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:csip="https://DILCIS.eu/XML/METS/CSIPExtensionMETS" xmlns:sip="https://DILCIS.eu/XML/METS/SIPExtensionMETS" OBJID="%s" LABEL="%s" TYPE="Other" csip:OTHERTYPE="Social media group (ActivityPub)" csip:CONTENTINFORMATIONTYPE="OTHER" csip:OTHERCONTENTINFORMATIONTYPE="` + ContentType + `" PROFILE="https://earksip.dilcis.eu/profile/E-ARK-SIP.xml" xsi:schemaLocation="http://www.loc.gov/METS/ %[3]sschemas/mets.xsd http://www.w3.org/1999/xlink %[3]sschemas/xlink.xsd https://DILCIS.eu/XML/METS/CSIPExtensionMETS %[3]sschemas/DILCISExtensionMETS.xsd https://DILCIS.eu/XML/METS/SIPExtensionMETS %[3]sschemas/DILCISExtensionSIPMETS.xsd">
`

func (w *writer) softwareAgent(b *strings.Builder, version string) {
	fmt.Fprintf(b, `    <mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE">
      <mets:name>torget</mets:name>
      <mets:note csip:NOTETYPE="SOFTWARE VERSION">%s</mets:note>
    </mets:agent>
`, esc(version))
}

func (w *writer) fileEl(b *strings.Builder, id string, f file, href string, withFormat bool) {
	format := ""
	if withFormat && f.formatKey != "" {
		format = fmt.Sprintf(` sip:FILEFORMATNAME="%s" sip:FILEFORMATREGISTRY="PRONOM" sip:FILEFORMATKEY="%s"`, esc(f.formatName), esc(f.formatKey))
	}
	fmt.Fprintf(b, `      <mets:file ID="%s" MIMETYPE="%s" SIZE="%d" CREATED="%s" CHECKSUM="%s" CHECKSUMTYPE="SHA-256"%s>
        <mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="%s"/>
      </mets:file>
`, id, esc(f.mime), f.size, w.created, f.sum, format, esc(href))
}

// label is the package's short title.
func label(groups []store.Group, opt Options) string {
	who := "all groups"
	if opt.GroupSlug != "" && len(groups) == 1 {
		who = groups[0].Name
	}
	return fmt.Sprintf("%s: torget record %s to %s", who, opt.From.UTC().Format("2006-01-02"), opt.To.UTC().Format("2006-01-02"))
}

// metadata writes the representation METS, Dublin Core and PREMIS.
func (w *writer) metadata(id string, groups []store.Group, opt Options) error {
	w.label = label(groups, opt)
	var b strings.Builder
	fmt.Fprintf(&b, metsOpen, "rep1", esc("Record entries, items and rendering"), "../../")
	fmt.Fprintf(&b, `  <mets:metsHdr CREATEDATE="%s" LASTMODDATE="%[1]s" RECORDSTATUS="NEW" csip:OAISPACKAGETYPE="SIP">
`, w.created)
	w.softwareAgent(&b, opt.Software)
	b.WriteString("  </mets:metsHdr>\n  <mets:fileSec ID=\"rep1-filesec\">\n    <mets:fileGrp ID=\"rep1-grp-data\" USE=\"Data\">\n")
	for i, f := range w.data {
		w.fileEl(&b, fmt.Sprintf("rep1-file-%d", i+1), f, f.representRel, true)
	}
	b.WriteString(`    </mets:fileGrp>
  </mets:fileSec>
  <mets:structMap ID="rep1-structmap" TYPE="PHYSICAL" LABEL="CSIP">
    <mets:div ID="rep1-div" LABEL="rep1">
      <mets:div ID="rep1-div-data" LABEL="Data">
        <mets:fptr FILEID="rep1-grp-data"/>
      </mets:div>
    </mets:div>
  </mets:structMap>
</mets:mets>
`)
	var err error
	if w.rep, err = w.write("representations/rep1/METS.xml", []byte(b.String()), "application/xml"); err != nil {
		return err
	}

	lang := "sv"
	if len(groups) == 1 && groups[0].Language != "" {
		lang = groups[0].Language
	}
	dc := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>%s</dc:title>
  <dc:creator>%s</dc:creator>
  <dc:date>%s/%s</dc:date>
  <dc:language>%s</dc:language>
  <dc:type>Dataset</dc:type>
  <dc:identifier>%s</dc:identifier>
</oai_dc:dc>
`, esc(label(groups, opt)), esc(opt.ArchivalCreator.Name), opt.From.UTC().Format("2006-01-02"),
		opt.To.UTC().Add(-time.Nanosecond).Format("2006-01-02"), esc(lang), esc(id))
	if w.dc, err = w.write("metadata/descriptive/dc.xml", []byte(dc), "application/xml"); err != nil {
		return err
	}

	var p strings.Builder
	p.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<premis:premis xmlns:premis="http://www.loc.gov/premis/v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="3.0">
`)
	for _, f := range w.data {
		fmt.Fprintf(&p, `  <premis:object xsi:type="premis:file">
    <premis:objectIdentifier>
      <premis:objectIdentifierType>local</premis:objectIdentifierType>
      <premis:objectIdentifierValue>%s</premis:objectIdentifierValue>
    </premis:objectIdentifier>
    <premis:objectCharacteristics>
      <premis:fixity>
        <premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm>
        <premis:messageDigest>%s</premis:messageDigest>
      </premis:fixity>
      <premis:size>%d</premis:size>
      <premis:format>
        <premis:formatDesignation>
          <premis:formatName>%s</premis:formatName>
        </premis:formatDesignation>
        <premis:formatRegistry>
          <premis:formatRegistryName>PRONOM</premis:formatRegistryName>
          <premis:formatRegistryKey>%s</premis:formatRegistryKey>
        </premis:formatRegistry>
      </premis:format>
    </premis:objectCharacteristics>
  </premis:object>
`, esc(f.rel), f.sum, f.size, esc(f.formatName), esc(f.formatKey))
	}
	eventID, err := newPackageID()
	if err != nil {
		return err
	}
	fmt.Fprintf(&p, `  <premis:event>
    <premis:eventIdentifier>
      <premis:eventIdentifierType>UUID</premis:eventIdentifierType>
      <premis:eventIdentifierValue>%s</premis:eventIdentifierValue>
    </premis:eventIdentifier>
    <premis:eventType>creation</premis:eventType>
    <premis:eventDateTime>%s</premis:eventDateTime>
    <premis:eventOutcomeInformation>
      <premis:eventOutcome>success</premis:eventOutcome>
    </premis:eventOutcomeInformation>
    <premis:linkingAgentIdentifier>
      <premis:linkingAgentIdentifierType>local</premis:linkingAgentIdentifierType>
      <premis:linkingAgentIdentifierValue>torget</premis:linkingAgentIdentifierValue>
    </premis:linkingAgentIdentifier>
  </premis:event>
  <premis:agent>
    <premis:agentIdentifier>
      <premis:agentIdentifierType>local</premis:agentIdentifierType>
      <premis:agentIdentifierValue>torget</premis:agentIdentifierValue>
    </premis:agentIdentifier>
    <premis:agentName>torget</premis:agentName>
    <premis:agentType>software</premis:agentType>
    <premis:agentVersion>%s</premis:agentVersion>
  </premis:agent>
</premis:premis>
`, strings.TrimPrefix(eventID, "uuid-"), w.created, esc(opt.Software))
	w.premis, err = w.write("metadata/preservation/premis.xml", []byte(p.String()), "application/xml")
	return err
}

// mets writes the root METS.xml.
func (w *writer) mets(id string, opt Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, metsOpen, esc(id), esc(w.label), "")
	fmt.Fprintf(&b, `  <mets:metsHdr CREATEDATE="%s" LASTMODDATE="%[1]s" RECORDSTATUS="NEW" csip:OAISPACKAGETYPE="SIP">
`, w.created)
	w.softwareAgent(&b, opt.Software)
	fmt.Fprintf(&b, `    <mets:agent ROLE="ARCHIVIST" TYPE="ORGANIZATION">
      <mets:name>%s</mets:name>
      <mets:note csip:NOTETYPE="IDENTIFICATIONCODE">%s</mets:note>
    </mets:agent>
    <mets:agent ROLE="CREATOR" TYPE="ORGANIZATION">
      <mets:name>%s</mets:name>
      <mets:note csip:NOTETYPE="IDENTIFICATIONCODE">%s</mets:note>
    </mets:agent>
`, esc(opt.ArchivalCreator.Name), esc(opt.ArchivalCreator.ID), esc(opt.Submitter.Name), esc(opt.Submitter.ID))
	if opt.SubmissionAgreement != "" {
		fmt.Fprintf(&b, "    <mets:altRecordID TYPE=\"SUBMISSIONAGREEMENT\">%s</mets:altRecordID>\n", esc(opt.SubmissionAgreement))
	}
	b.WriteString("  </mets:metsHdr>\n")
	fmt.Fprintf(&b, `  <mets:dmdSec ID="dmd-dc" CREATED="%s" STATUS="CURRENT">
    <mets:mdRef LOCTYPE="URL" xlink:type="simple" xlink:href="%[2]s" MDTYPE="DC" MIMETYPE="application/xml" SIZE="%[3]d" CREATED="%[1]s" CHECKSUM="%[4]s" CHECKSUMTYPE="SHA-256"/>
  </mets:dmdSec>
  <mets:amdSec ID="amd">
    <mets:digiprovMD ID="digiprov-premis" CREATED="%[1]s" STATUS="CURRENT">
      <mets:mdRef LOCTYPE="URL" xlink:type="simple" xlink:href="%[5]s" MDTYPE="PREMIS" MDTYPEVERSION="3.0" MIMETYPE="application/xml" SIZE="%[6]d" CREATED="%[1]s" CHECKSUM="%[7]s" CHECKSUMTYPE="SHA-256"/>
    </mets:digiprovMD>
  </mets:amdSec>
  <mets:fileSec ID="filesec">
    <mets:fileGrp ID="grp-documentation" USE="Documentation">
`, w.created, w.dc.rel, w.dc.size, w.dc.sum, w.premis.rel, w.premis.size, w.premis.sum)
	for i, f := range w.docs {
		w.fileEl(&b, fmt.Sprintf("file-doc-%d", i+1), f, f.rel, false)
	}
	b.WriteString("    </mets:fileGrp>\n    <mets:fileGrp ID=\"grp-schemas\" USE=\"Schemas\">\n")
	for i, f := range w.schemas {
		w.fileEl(&b, fmt.Sprintf("file-schema-%d", i+1), f, f.rel, false)
	}
	b.WriteString(`    </mets:fileGrp>
    <mets:fileGrp ID="grp-rep1" USE="Representations/rep1" csip:CONTENTINFORMATIONTYPE="OTHER" csip:OTHERCONTENTINFORMATIONTYPE="` + ContentType + `">
`)
	w.fileEl(&b, "file-rep1-mets", w.rep, w.rep.rel, false)
	fmt.Fprintf(&b, `    </mets:fileGrp>
  </mets:fileSec>
  <mets:structMap ID="structmap" TYPE="PHYSICAL" LABEL="CSIP">
    <mets:div ID="div-package" LABEL="%s">
      <mets:div ID="div-metadata" LABEL="Metadata" ADMID="digiprov-premis" DMDID="dmd-dc"/>
      <mets:div ID="div-documentation" LABEL="Documentation">
        <mets:fptr FILEID="grp-documentation"/>
      </mets:div>
      <mets:div ID="div-schemas" LABEL="Schemas">
        <mets:fptr FILEID="grp-schemas"/>
      </mets:div>
      <mets:div ID="div-representations" LABEL="Representations">
        <mets:fptr FILEID="grp-rep1"/>
        <mets:div ID="div-rep1" LABEL="Representations/rep1">
          <mets:mptr LOCTYPE="URL" xlink:type="simple" xlink:href="representations/rep1/METS.xml" xlink:title="grp-rep1"/>
        </mets:div>
      </mets:div>
    </mets:div>
  </mets:structMap>
</mets:mets>
`, esc(id))
	_, err := w.write("METS.xml", []byte(b.String()), "application/xml")
	return err
}
