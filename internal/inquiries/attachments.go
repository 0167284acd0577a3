package inquiries

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// AttachmentOpener reads a kept attachment's content (package mail keeps
// the files of received mail; the server wires it).
type AttachmentOpener func(ctx context.Context, id string) (io.ReadCloser, Attachment, error)

// OpenAttachment returns an attachment of one of the inquiry's messages to
// someone who may see the inquiry (outside scope, or an attachment of
// another inquiry: 404, so ids cannot be probed).
func (s *Service) OpenAttachment(ctx context.Context, inquiryID, attachmentID string) (io.ReadCloser, Attachment, error) {
	notFound := errs.NotFoundf("entity.attachment")
	if _, err := s.visible(ctx, s.db, inquiryID); err != nil {
		return nil, Attachment{}, err
	}
	if !valid.LooksLikeID(attachmentID) || strings.ContainsAny(attachmentID, `%_"\`) || s.cfg.OpenAttachment == nil {
		return nil, Attachment{}, notFound
	}
	// Only received mail carries files the mail service kept: an id typed
	// into a hand-entered message must not open someone else's file.
	rows, err := s.db.Query(ctx, `SELECT attachments FROM inquiry_messages WHERE inquiry_id = ? AND direction = 'in' AND message_id IS NOT NULL
		AND attachments LIKE ?`, inquiryID, `%"`+attachmentID+`"%`)
	if err != nil {
		return nil, Attachment{}, err
	}
	defer rows.Close()
	found := false
	for rows.Next() && !found {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, Attachment{}, err
		}
		var atts []Attachment
		if json.Unmarshal([]byte(raw), &atts) != nil {
			continue
		}
		for _, a := range atts {
			if a.ID == attachmentID {
				found = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, Attachment{}, err
	}
	if !found {
		return nil, Attachment{}, notFound
	}
	return s.cfg.OpenAttachment(ctx, attachmentID)
}
