package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// SettingRequireTOTP makes the second factor mandatory for all staff ("on").
const SettingRequireTOTP = "auth.require_totp"

// Setting returns a setting's value or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var row Setting
	if err := translate(s.ctx(ctx).Where("key = ?", key).Take(&row).Error); err != nil {
		return "", err
	}
	return row.Value, nil
}

// SetSettingIfAbsent stores value unless key exists, and returns the value
// now stored (so concurrent first starts agree on one instance key).
func (s *Store) SetSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	defer s.write()()
	row := Setting{Key: key, Value: value, UpdatedAt: s.now()}
	if err := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return "", err
	}
	return s.Setting(ctx, key)
}

// SetSetting stores value under key, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	defer s.write()()
	row := Setting{Key: key, Value: value, UpdatedAt: s.now()}
	err := s.wctx(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("set setting %q: %w", key, translate(err))
	}
	return nil
}

// DeleteSetting removes key; removing a missing key is no error.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	defer s.write()()
	if err := s.wctx(ctx).Where("key = ?", key).Delete(&Setting{}).Error; err != nil {
		return fmt.Errorf("delete setting %q: %w", key, translate(err))
	}
	return nil
}
