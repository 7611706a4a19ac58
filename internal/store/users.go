package store

import (
	"context"
	"fmt"
)

// CreateUser inserts a staff account; a taken username gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	defer s.write()()
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := translate(s.ctx(ctx).Create(u).Error); err != nil {
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
	res := s.ctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"password_hash": hash, "updated_at": s.now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
