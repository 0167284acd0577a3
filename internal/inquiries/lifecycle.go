package inquiries

import (
	"context"
	"strconv"
	"strings"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/valid"
)

// mutate runs fn on a visible inquiry inside a transaction after the
// If-Match check, then returns the inquiry as it is now.
func (s *Service) mutate(ctx context.Context, id string, version int64, perm string, fn func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error) (*Inquiry, error) {
	p := authz.From(ctx)
	if err := p.Require(perm); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visible(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		cal, err := s.calendar(ctx)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx, r, cal); err != nil {
			return err
		}
		// The version guard makes a concurrent change lose with 412
		// instead of silently overwriting.
		res, err := tx.Exec(ctx, "UPDATE inquiries SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?", db.Ms(tx.Now()), id, r.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

func illegalMove(from, to string) error {
	return &errs.Error{Kind: errs.Conflict, Code: "illegal_transition", Key: "inquiries.illegal_transition",
		Args:    []any{i18n.Key("inquiries.status." + from), i18n.Key("inquiries.status." + to)},
		Details: map[string]any{"from": from, "to": to}}
}

// ChangeStatus moves an inquiry along its lifecycle by hand.
func (s *Service) ChangeStatus(ctx context.Context, id string, version int64, in StatusInput) (*Inquiry, error) {
	if !oneOf(Statuses, in.Status) {
		var v errs.Validation
		v.Add("status", "field.one_of", strings.Join(Statuses, ", "))
		return nil, v.Err()
	}
	return s.mutate(ctx, id, version, authz.InquiriesUpdate, func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error {
		to := in.Status
		switch {
		case to == StatusClosed:
			// Closing needs the consultation record.
			return errs.New(errs.Conflict, "close_needs_record", "inquiries.close_needs_record")
		case to == StatusAssigned && r.AssigneeID == nil:
			return errs.New(errs.Conflict, "no_assignee", "inquiries.no_assignee")
		case !CanMove(r.Status, to):
			return illegalMove(r.Status, to)
		}
		return s.setStatus(ctx, tx, r, cal, to, "")
	})
}

// setStatus applies a status change with its clock effects, timeline
// event, live event and audit record.
func (s *Service) setStatus(ctx context.Context, tx *db.Tx, r *row, cal Calendar, to, reason string) error {
	now := tx.Now()
	st := r.sla
	switch {
	case to == StatusWaiting:
		st.pause(now)
	case to == StatusResolved || to == StatusClosed:
		st.resume(cal, now)
		st.resolve(now)
	case r.Status == StatusResolved || r.Status == StatusClosed:
		st.reopen(cal, now)
	default:
		st.resume(cal, now)
	}
	st.Active = isActive(to)
	st.alarms(now)
	if _, err := tx.Exec(ctx, "UPDATE inquiries SET status = ?, active = ? WHERE id = ?", to, st.Active, r.ID); err != nil {
		return err
	}
	if err := saveSLA(ctx, tx, r.ID, &st); err != nil {
		return err
	}
	if r.AccountID != nil && (to == StatusResolved || reason != "") {
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "inquiry_" + to, RefType: "inquiry", RefID: r.ID,
			Title: r.Subject, Body: reason}); err != nil {
			return err
		}
	}
	s.publish(ctx, tx, event{Type: "status_changed", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: to})
	ev := audit.Event{Action: "inquiry.status", EntityType: "inquiry", EntityID: r.ID, Changes: map[string][2]any{"status": {r.Status, to}}}
	if reason != "" {
		ev.Detail = map[string]any{"reason": reason}
	}
	return s.audit.Record(ctx, tx, ev)
}

// Update edits subject, priority or the linked customer.
func (s *Service) Update(ctx context.Context, id string, version int64, in InquiryPatch) (*Inquiry, error) {
	return s.mutate(ctx, id, version, authz.InquiriesUpdate, func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error {
		var v errs.Validation
		var set []string
		var args []any
		changes := map[string][2]any{}
		if in.Subject != nil {
			sub := valid.Text(&v, "subject", *in.Subject, true, 200)
			set, args = append(set, "subject = ?"), append(args, sub)
			changes["subject"] = [2]any{r.Subject, sub}
		}
		if in.Priority != nil {
			if !oneOf(Priorities, *in.Priority) {
				v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
			}
			set, args = append(set, "priority = ?"), append(args, *in.Priority)
			changes["priority"] = [2]any{r.Priority, *in.Priority}
		}
		account := r.AccountID
		if in.AccountID != nil {
			if *in.AccountID == "" {
				account = nil
			} else if !valid.LooksLikeID(*in.AccountID) {
				v.Add("account_id", "field.not_found")
			} else if _, err := s.customers.GetAccount(ctx, *in.AccountID); err != nil {
				if errs.KindOf(err) == errs.Internal {
					return err
				}
				v.Add("account_id", "field.not_found")
			} else {
				account = in.AccountID
			}
			set, args = append(set, "account_id = ?", "contact_id = ?"), append(args, nullable(deref(account)), nil)
			changes["account_id"] = [2]any{deref(r.AccountID), deref(account)}
		}
		if in.ContactID != nil && *in.ContactID != "" {
			if !valid.LooksLikeID(*in.ContactID) {
				v.Add("contact_id", "field.not_found")
			} else if account == nil {
				v.Add("contact_id", "inquiries.contact_needs_account")
			} else {
				var one int
				err := tx.QueryRow(ctx, "SELECT 1 FROM account_contacts WHERE account_id = ? AND contact_id = ?", *account, *in.ContactID).Scan(&one)
				if isNotFound(err) {
					v.Add("contact_id", "field.not_found")
				} else if err != nil {
					return err
				}
				if in.AccountID != nil {
					args[len(args)-1] = *in.ContactID
				} else {
					set, args = append(set, "contact_id = ?"), append(args, *in.ContactID)
				}
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(set) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET "+strings.Join(set, ", ")+" WHERE id = ?", append(args, r.ID)...); err != nil {
			return err
		}
		if account != nil && deref(account) != deref(r.AccountID) {
			if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *account, Kind: "inquiry_opened", RefType: "inquiry", RefID: r.ID, Title: r.Subject}); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.update", EntityType: "inquiry", EntityID: r.ID, Changes: changes})
	})
}

// Assign gives an inquiry to a person (or a team). Taking an unassigned
// inquiry of one's own queue needs only inquiries.update; giving work to
// someone else, or taking it from its assignee (a transfer, which needs a
// reason that is kept), needs inquiries.assign.
func (s *Service) Assign(ctx context.Context, id string, version int64, in AssignInput) (*Inquiry, error) {
	p := authz.From(ctx)
	return s.mutate(ctx, id, version, authz.InquiriesUpdate, func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error {
		if r.Status == StatusClosed {
			return errs.New(errs.Conflict, "inquiry_closed", "inquiries.closed")
		}
		claim := in.AssigneeID == p.UserID && r.AssigneeID == nil && in.DepartmentID == ""
		if !claim {
			if err := p.Require(authz.InquiriesAssign); err != nil {
				return err
			}
		}
		var v errs.Validation
		in.Reason = valid.Text(&v, "reason", in.Reason, false, 500)
		transfer := r.AssigneeID != nil && in.AssigneeID != *r.AssigneeID
		if transfer && in.Reason == "" {
			v.Add("reason", "inquiries.transfer_reason")
		}
		var assignee, dept *string = nil, r.DepartmentID
		if in.AssigneeID != "" {
			d, err := s.assignable(ctx, tx, p, in.AssigneeID, &v, "assignee_id")
			if err != nil {
				return err
			}
			assignee = &in.AssigneeID
			if d != nil {
				dept = d
			}
		} else if in.DepartmentID == "" {
			v.Add("assignee_id", "field.required")
		}
		if in.DepartmentID != "" {
			if err := s.checkDepartment(ctx, tx, p, in.DepartmentID, &v, "department_id"); err != nil {
				return err
			}
			dept = &in.DepartmentID
		}
		if err := v.Err(); err != nil {
			return err
		}
		if deref(assignee) == deref(r.AssigneeID) && deref(dept) == deref(r.DepartmentID) {
			return errs.New(errs.Conflict, "same_assignee", "inquiries.same_assignee")
		}
		status := r.Status
		if assignee != nil && status == StatusNew {
			status = StatusAssigned
		}
		if assignee == nil && status == StatusAssigned {
			status = StatusNew
		}
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET assignee_id = ?, department_id = ?, status = ? WHERE id = ?", assignee, dept, status, r.ID); err != nil {
			return err
		}
		// The conversation shows who handed it to whom and why.
		body := in.Reason
		if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, body, data, created_at)
			VALUES (?, ?, 'assignment', 'internal', ?, ?, ?, ?)`, db.NewID(), r.ID, p.UserID, body,
			jsonText(map[string]any{"from": deref(r.AssigneeID), "to": deref(assignee), "department_id": deref(dept), "transfer": transfer}), db.Ms(tx.Now())); err != nil {
			return err
		}
		if r.AccountID != nil && transfer {
			if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "inquiry_transferred", RefType: "inquiry", RefID: r.ID,
				Title: r.Subject, Body: in.Reason, Data: map[string]any{"from": deref(r.AssigneeID), "to": deref(assignee)}}); err != nil {
				return err
			}
		}
		if assignee != nil && *assignee != p.UserID {
			if err := s.notifyUser(ctx, tx, *assignee, "inquiry_assigned", "notify.inquiry_assigned", []any{r.Subject}, "/inbox/"+r.ID,
				"inq-assigned:"+r.ID+":"+*assignee+":"+strconv.FormatInt(r.Version, 10)); err != nil {
				return err
			}
		}
		s.publish(ctx, tx, event{Type: "inquiry_assigned", InquiryID: r.ID, AssigneeID: deref(assignee), DepartmentID: deref(dept), Status: status})
		if r.AssigneeID != nil && transfer {
			// The previous assignee's view drops it live too.
			s.publish(ctx, tx, event{Type: "inquiry_assigned", InquiryID: r.ID, AssigneeID: *r.AssigneeID, DepartmentID: deref(r.DepartmentID), Status: status})
		}
		action := "inquiry.assign"
		if transfer {
			action = "inquiry.transfer"
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "inquiry", EntityID: r.ID,
			Changes: map[string][2]any{"assignee_id": {deref(r.AssigneeID), deref(assignee)}, "department_id": {deref(r.DepartmentID), deref(dept)}, "status": {r.Status, status}},
			Detail:  map[string]any{"reason": in.Reason}})
	})
}

// Close closes an inquiry with its consultation record (seed 4 三.5: 客户
// 信息、咨询内容、解答情况). Every missing part is named in one 422; a
// promised follow-up becomes a promise task in the same transaction.
func (s *Service) Close(ctx context.Context, id string, version int64, in CloseInput) (*Inquiry, error) {
	p := authz.From(ctx)
	return s.mutate(ctx, id, version, authz.InquiriesUpdate, func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error {
		if r.Status == StatusClosed {
			return illegalMove(r.Status, StatusClosed)
		}
		var v errs.Validation
		if r.AccountID == nil {
			v.Add("account_id", "inquiries.close_needs_customer")
		}
		in.Question = valid.Text(&v, "question", in.Question, true, 4000)
		in.Answer = valid.Text(&v, "answer", in.Answer, true, 8000)
		if in.Outcome == "" {
			v.Add("outcome", "field.required")
		} else if !oneOf(Outcomes, in.Outcome) {
			v.Add("outcome", "field.one_of", strings.Join(Outcomes, ", "))
		}
		in.FollowUpNote = valid.Text(&v, "follow_up_note", in.FollowUpNote, false, 500)
		if in.FollowUpNote != "" && in.FollowUpAt == nil {
			// A promise without a time cannot be kept or broken.
			v.Add("follow_up_at", "inquiries.follow_up_time")
		}
		if in.FollowUpAt != nil && !in.FollowUpAt.After(tx.Now()) {
			v.Add("follow_up_at", "field.future")
		}
		if err := v.Err(); err != nil {
			return err
		}
		var taskID any
		if in.FollowUpAt != nil {
			owner := p.UserID
			if r.AssigneeID != nil {
				owner = *r.AssigneeID
			}
			title := firstNonEmpty(in.FollowUpNote, r.Subject)
			tid, err := s.followups.CreateTaskTx(ctx, tx, followups.TaskInput{Title: firstLine(title, 190), Kind: "call", DueAt: *in.FollowUpAt,
				OwnerID: owner, AccountID: *r.AccountID, RefType: "inquiry", RefID: r.ID, IsPromise: true,
				PromiseText: firstNonEmpty(in.FollowUpNote, in.Answer), PromisedTo: firstLine(firstNonEmpty(r.ContactName, r.CustomerName), 90), Source: "consultation"})
			if err != nil {
				return err
			}
			taskID = tid
		}
		var follow any
		if in.FollowUpAt != nil {
			follow = db.Ms(*in.FollowUpAt)
		}
		if _, err := tx.Exec(ctx, `UPDATE inquiries SET question = ?, answer = ?, outcome = ?, follow_up_at = ?, follow_up_task_id = ?, closed_at = ?, closed_by = ? WHERE id = ?`,
			in.Question, in.Answer, in.Outcome, follow, taskID, db.Ms(tx.Now()), p.UserID, r.ID); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "consultation_recorded", RefType: "inquiry", RefID: r.ID,
			Title: r.Subject, Body: in.Answer, Data: map[string]any{"question": in.Question, "outcome": in.Outcome, "follow_up_at": follow, "channel": r.Channel}}); err != nil {
			return err
		}
		if err := s.setStatus(ctx, tx, r, cal, StatusClosed, ""); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.close", EntityType: "inquiry", EntityID: r.ID,
			Detail: map[string]any{"outcome": in.Outcome, "follow_up_at": follow, "follow_up_task_id": taskID}})
	})
}

// Reopen brings a resolved or closed inquiry back into work; the reason is
// kept and the resolution clock restarts.
func (s *Service) Reopen(ctx context.Context, id string, version int64, in ReopenInput) (*Inquiry, error) {
	return s.mutate(ctx, id, version, authz.InquiriesUpdate, func(ctx context.Context, tx *db.Tx, r *row, cal Calendar) error {
		if r.Status != StatusResolved && r.Status != StatusClosed {
			return illegalMove(r.Status, StatusInProgress)
		}
		var v errs.Validation
		in.Reason = valid.Text(&v, "reason", in.Reason, true, 500)
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET closed_at = NULL WHERE id = ?", r.ID); err != nil {
			return err
		}
		return s.setStatus(ctx, tx, r, cal, StatusInProgress, in.Reason)
	})
}

// route applies the assignment rules to a new inquiry: the first enabled
// rule matching its channel and priority names the team, and for
// round_robin the next available member in turn. The turn counter is
// bumped with UPDATE … RETURNING inside the creating transaction, so two
// concurrent creators (on two instances) take two different turns.
//
// team, when given, is where the inquiry must go (a web-chat site's team):
// only that team's rules are tried, and without one it waits in the team's
// queue.
func (s *Service) route(ctx context.Context, tx *db.Tx, channel, priority, team string) (*string, *string, error) {
	var ruleID, dept, strategy string
	var user *string
	q := `SELECT id, department_id, strategy, user_id FROM inquiry_rules WHERE enabled = ? AND (channel = '' OR channel = ?)
		AND (priority = '' OR priority = ?)`
	args := []any{true, channel, priority}
	if team != "" {
		q += " AND department_id = ?"
		args = append(args, team)
	}
	err := tx.QueryRow(ctx, q+" ORDER BY position, created_at LIMIT 1", args...).Scan(&ruleID, &dept, &strategy, &user)
	if isNotFound(err) {
		if team != "" {
			return nil, &team, nil
		}
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	switch strategy {
	case "user":
		if user != nil {
			var active bool
			if err := tx.QueryRow(ctx, "SELECT active FROM users WHERE id = ?", *user).Scan(&active); err == nil && active {
				return user, &dept, nil
			}
		}
		return nil, &dept, nil
	case "round_robin":
		var seq int64
		if err := tx.QueryRow(ctx, "UPDATE inquiry_rules SET rr_seq = rr_seq + 1 WHERE id = ? RETURNING rr_seq", ruleID).Scan(&seq); err != nil {
			return nil, nil, err
		}
		rows, err := tx.Query(ctx, `SELECT u.id FROM users u JOIN inquiry_agents g ON g.user_id = u.id
			WHERE u.department_id = ? AND u.active = ? AND g.available = ? ORDER BY u.id`, dept, true, true)
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		if len(ids) == 0 {
			return nil, &dept, nil // nobody present: the team queue
		}
		pick := ids[int((seq-1)%int64(len(ids)))]
		return &pick, &dept, nil
	}
	return nil, &dept, nil
}

// policyFor returns the response-time policy for a channel and priority.
func (s *Service) policyFor(ctx context.Context, q db.Querier, channel, priority string) (Policy, bool, error) {
	ps, err := listPolicies(ctx, q)
	if err != nil {
		return Policy{}, false, err
	}
	p, ok := matchPolicy(ps, channel, priority)
	return p, ok, nil
}
