package store

import (
	"context"
	"fmt"
	"strings"
)

// CreateUser inserts a staff account; a taken username gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	defer s.write()()
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := translate(s.wctx(ctx).Create(u).Error); err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByName loads a staff account.
func (s *Store) UserByName(ctx context.Context, name string) (*User, error) {
	var u User
	if err := translate(s.ctx(ctx).Where("username = ?", name).Take(&u).Error); err != nil {
		return nil, fmt.Errorf("load user %q: %w", name, err)
	}
	return &u, nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	defer s.write()()
	res := s.wctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"password_hash": hash, "updated_at": s.now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// UserByID loads a staff account.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := translate(s.ctx(ctx).Where("id = ?", id).Take(&u).Error); err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return &u, nil
}

// ListUsers returns every staff account by username.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var out []User
	return out, s.ctx(ctx).Order("username").Find(&out).Error
}

// ResetPassword sets a new password hash, marks whether the user must
// change it at next sign-in, and ends all the user's sessions, in one
// transaction. It returns how many sessions ended.
func (s *Store) ResetPassword(ctx context.Context, id int64, hash string, mustChange bool) (int64, error) {
	var ended int64
	err := s.Tx(ctx, func(tx *Store) error {
		res := tx.ctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"password_hash": hash, "must_change_password": mustChange, "updated_at": tx.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var err error
		ended, err = tx.DeleteUserSessions(ctx, id)
		return err
	})
	return ended, err
}

// ChangeOwnPassword sets a new hash, clears must_change_password and ends
// the user's other sessions (keep is the session to keep).
func (s *Store) ChangeOwnPassword(ctx context.Context, id int64, hash, keep string) error {
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.ctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"password_hash": hash, "must_change_password": false, "updated_at": tx.now()}).Error; err != nil {
			return err
		}
		return tx.ctx(ctx).Where("user_id = ? AND id <> ?", id, keep).Delete(&Session{}).Error
	})
}

// SetTOTPSecret stores a new, not yet confirmed, TOTP secret.
func (s *Store) SetTOTPSecret(ctx context.Context, id int64, secret string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{
		"totp_secret": secret, "totp_enabled": false, "totp_last_step": 0, "updated_at": s.now()}).Error
}

// SetTOTPEnabled turns the second factor on (after a confirmed code) or off
// (which also forgets the secret).
func (s *Store) SetTOTPEnabled(ctx context.Context, id int64, on bool) error {
	defer s.write()()
	upd := map[string]any{"totp_enabled": on, "updated_at": s.now()}
	if !on {
		upd["totp_secret"] = ""
		upd["totp_last_step"] = 0
	}
	return s.wctx(ctx).Model(&User{}).Where("id = ?", id).Updates(upd).Error
}

// UseTOTPStep records that the code of time step step was used. It returns
// false if that step or a later one was used already (a replayed code), so
// a code is accepted once even across several nodes.
func (s *Store) UseTOTPStep(ctx context.Context, id, step int64) (bool, error) {
	defer s.write()()
	res := s.wctx(ctx).Model(&User{}).Where("id = ? AND totp_last_step < ?", id, step).Update("totp_last_step", step)
	return res.RowsAffected == 1, res.Error
}

// SetUserLocale sets the interface language an account chose ("" follows
// the browser).
func (s *Store) SetUserLocale(ctx context.Context, id int64, locale string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"locale": locale, "updated_at": s.now()}).Error
}

// SetUserLanguages sets the languages a person reads (language tags such
// as "sv", "fi"; empty: none given).
func (s *Store) SetUserLanguages(ctx context.Context, id int64, langs []string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&User{}).Where("id = ?", id).
		Updates(map[string]any{"languages": strings.Join(langs, ","), "updated_at": s.now()}).Error
}
