package store

import (
	"context"
	"fmt"
	"sort"

	"gorm.io/gorm/clause"
)

// Staff roles (the same strings as internal/auth's).
const (
	RoleAdmin     = "admin"
	RoleModerator = "moderator"
	RoleEditor    = "editor"
)

// AssignGroupStaff gives a user a role in a group, replacing any earlier one.
func (s *Store) AssignGroupStaff(ctx context.Context, groupID, userID int64, role string) error {
	defer s.write()()
	row := GroupStaff{GroupID: groupID, UserID: userID, Role: role, CreatedAt: s.now()}
	err := s.wctx(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "group_id"}, {Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"role"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("assign user %d to group %d: %w", userID, groupID, translate(err))
	}
	return nil
}

// GroupRole returns the user's role in a group, or "" when unassigned.
func (s *Store) GroupRole(ctx context.Context, groupID, userID int64) (string, error) {
	var roles []string
	err := s.ctx(ctx).Model(&GroupStaff{}).Where("group_id = ? AND user_id = ?", groupID, userID).Limit(1).Pluck("role", &roles).Error
	if err != nil || len(roles) == 0 {
		return "", err
	}
	return roles[0], nil
}

// CanPublish reports whether u may publish as the group: administrators
// everywhere, editors only in groups they are assigned to as editors;
// disabled accounts and moderators nowhere.
func (s *Store) CanPublish(ctx context.Context, u *User, groupID int64) (bool, error) {
	if u == nil || u.Disabled {
		return false, nil
	}
	switch u.Role {
	case RoleAdmin:
		return true, nil
	case RoleEditor:
		r, err := s.GroupRole(ctx, groupID, u.ID)
		return r == RoleEditor, err
	}
	return false, nil
}

// GroupStaffMember is a user assigned to a group, with the role there.
type GroupStaffMember struct {
	UserID      int64
	Username    string
	Role        string
	Responsible bool
}

// ListGroupStaff returns the users assigned to a group, by username.
func (s *Store) ListGroupStaff(ctx context.Context, groupID int64) ([]GroupStaffMember, error) {
	var out []GroupStaffMember
	err := s.ctx(ctx).Table("group_staff").Select("group_staff.user_id, users.username, group_staff.role, group_staff.responsible").
		Joins("JOIN users ON users.id = group_staff.user_id").Where("group_staff.group_id = ?", groupID).
		Order("users.username").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list staff of group %d: %w", groupID, err)
	}
	return out, nil
}

// RemoveGroupStaff ends a user's assignment to a group; ErrNotFound when
// there was none.
func (s *Store) RemoveGroupStaff(ctx context.Context, groupID, userID int64) error {
	defer s.write()()
	res := s.wctx(ctx).Where("group_id = ? AND user_id = ?", groupID, userID).Delete(&GroupStaff{})
	if res.Error != nil {
		return fmt.Errorf("remove user %d from group %d: %w", userID, groupID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("remove user %d from group %d: %w", userID, groupID, ErrNotFound)
	}
	return nil
}

// SetResponsibleStaff makes exactly users the group's responsible staff.
// A user not yet assigned to the group is assigned with role (editors and
// moderators keep their own role); the others stay assigned but are no
// longer marked responsible. Call it in the transaction that creates or
// edits the group.
func (s *Store) SetResponsibleStaff(ctx context.Context, groupID int64, users []User) error {
	defer s.write()()
	db := s.wctx(ctx)
	if err := db.Model(&GroupStaff{}).Where("group_id = ?", groupID).Update("responsible", false).Error; err != nil {
		return fmt.Errorf("clear responsible staff of group %d: %w", groupID, err)
	}
	for _, u := range users {
		row := GroupStaff{GroupID: groupID, UserID: u.ID, Role: u.Role, Responsible: true, CreatedAt: s.now()}
		err := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "group_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"responsible"}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("mark user %d responsible for group %d: %w", u.ID, groupID, translate(err))
		}
	}
	return nil
}

// CaseRoutingCandidates returns the enabled editors of a group (who may
// answer its cases) that read lang, each with the number of open cases
// they own, fewest first, then by username.
func (s *Store) CaseRoutingCandidates(ctx context.Context, groupID int64, lang string) ([]RoutingCandidate, error) {
	var users []User
	err := s.ctx(ctx).Table("users").Select("users.*").Joins("JOIN group_staff ON group_staff.user_id = users.id").
		Where("group_staff.group_id = ? AND group_staff.role = ? AND users.disabled = ? AND users.role IN ?",
			groupID, RoleEditor, false, []string{RoleEditor, RoleAdmin}).Order("users.username").Find(&users).Error
	if err != nil {
		return nil, fmt.Errorf("staff of group %d: %w", groupID, err)
	}
	var out []RoutingCandidate
	for _, u := range users {
		if !u.Reads(lang) {
			continue
		}
		var n int64
		if err := s.ctx(ctx).Model(&Case{}).Where("owner_user_id = ? AND status = ?", u.ID, CaseNew).Count(&n).Error; err != nil {
			return nil, err
		}
		out = append(out, RoutingCandidate{User: u, OpenCases: n})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OpenCases < out[j].OpenCases })
	return out, nil
}

// RoutingCandidate is a staff member a case can be routed to.
type RoutingCandidate struct {
	User      User
	OpenCases int64
}
