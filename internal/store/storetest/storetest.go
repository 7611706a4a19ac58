// Package storetest opens a fresh, migrated store for a test: SQLite in a
// temporary folder by default, or a new PostgreSQL schema when
// TORGET_TEST_DB=postgres (URL from TORGET_TEST_POSTGRES_URL, default
// postgres://postgres@127.0.0.1:5432/test).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/torget/torget/internal/store"
)

// Postgres reports whether tests run against PostgreSQL.
func Postgres() bool { return os.Getenv("TORGET_TEST_DB") == "postgres" }

// URL returns a database URL for a fresh database: for PostgreSQL a new
// schema (dropped at cleanup), for SQLite a file in t.TempDir().
func URL(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return "sqlite:" + filepath.Join(t.TempDir(), "torget.db")
	}
	base := os.Getenv("TORGET_TEST_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := store.Open(base, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	sep := "?"
	if containsQuery(base) {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func containsQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return true
		}
	}
	return false
}

// Open returns a migrated store on a fresh database, closed at cleanup.
func Open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(URL(t), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}
