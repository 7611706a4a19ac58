package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestNoDeleteOutsideGallring is REC-2's static check: every DELETE
// statement, gorm Delete call and blob removal in the code must be in the
// list below, each with the reason it is not a record; record rows are
// removed only by store/gallring.go, which only internal/gallring calls.
func TestNoDeleteOutsideGallring(t *testing.T) {
	allowed := map[string]string{
		"internal/store/gallring.go":   "gallring: the one deletion of record rows, under a retention decision",
		"internal/store/sessions.go":   "staff sessions: login state, not a record (sign-ins are in the audit log)",
		"internal/store/users.go":      "other sessions of a user whose password changed",
		"internal/store/followers.go":  "follower state; every Follow/Undo received is in the record",
		"internal/store/notes.go":      "reaction counters (Like, EmojiReact, Announce); every reaction and Undo received is in the record",
		"internal/store/groupstaff.go": "a staff assignment; assign/unassign are audited (and so recorded)",
		"internal/store/settings.go":   "an about page reset to its default; the change is audited",
		"internal/store/logins.go":     "sign-in throttling counters",
		"internal/store/sweep.go":      "finished deliveries past [privacy] operational_retention: operational rows, the activity sent stays in the record (PRV-6, REC-7)",
		"internal/store/moderation.go": "a domain policy lifted; the change is audited and the defederation decision stays",
		"internal/media/s3.go":         "removes a half-written upload after a failed put",
		"internal/media/local.go":      "removes a temporary file of a failed write",
		"internal/web/media.go":        "removes the stored sizes of an upload whose row could not be written (never shown or published)",
		"internal/web/staff_record.go": "removes the temporary copy of an archive package once sent; its checksum is registered",
	}
	// A pattern for each kind of deletion.
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bDELETE\s+FROM\b`),
		regexp.MustCompile(`\.Delete\(`),
		regexp.MustCompile(`\bos\.Remove(All)?\(`),
		regexp.MustCompile(`\bTRUNCATE\s+(TABLE\s+)?\w`),
		regexp.MustCompile(`(?i)\bDROP\s+TABLE\b`),
	}
	// federation.Service.Delete hides a post (deleted_at, Tombstone) and
	// federates Delete; the row and its versions stay (MOD-4).
	softDelete := regexp.MustCompile(`\.(fed|Fed)\.Delete\(`)
	gallraCall := regexp.MustCompile(`\.GallraRecords\(`)
	recordWrite := regexp.MustCompile(`(?i)(UPDATE|DELETE\s+FROM)\s+record_entries`)
	root := filepath.Join("..", "..")
	var found []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "e2e") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "internal/loadtest/") || strings.HasPrefix(rel, "cmd/torget-load") {
			return nil // test tooling, never part of the server
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			code := strings.TrimSpace(line)
			if strings.HasPrefix(code, "//") {
				continue
			}
			where := rel + ":" + strconv.Itoa(i+1)
			if gallraCall.MatchString(code) && !strings.HasPrefix(rel, "internal/gallring/") {
				t.Errorf("%s calls GallraRecords outside internal/gallring: %s", where, code)
			}
			if recordWrite.MatchString(code) && rel != "internal/store/gallring.go" {
				t.Errorf("%s changes record rows: %s", where, code)
			}
			for _, re := range patterns {
				if re.MatchString(code) && !softDelete.MatchString(code) {
					found = append(found, where)
					if _, ok := allowed[rel]; !ok && !strings.Contains(code, "ON DELETE CASCADE") {
						t.Errorf("%s deletes outside gallring and outside the allowed list: %s", where, code)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("the scan found no deletion at all: it is not looking at the code")
	}
}
