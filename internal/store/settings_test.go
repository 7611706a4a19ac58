package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func TestSetSettingUpserts(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	for _, v := range []string{"ett", "två"} {
		if err := s.SetSetting(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Setting(ctx, "k"); err != nil || got != v {
			t.Fatalf("Setting = %q, %v; want %q", got, err, v)
		}
	}
	if got, err := s.SetSettingIfAbsent(ctx, "k", "tre"); err != nil || got != "två" {
		t.Fatalf("SetSettingIfAbsent = %q, %v", got, err)
	}
	if err := s.DeleteSetting(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteSetting(ctx, "k"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}
