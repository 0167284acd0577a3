package server

import (
	"context"
	"fmt"
	"net/http"

	"prelude/internal/contracts"
	"prelude/internal/followups"
	"prelude/internal/mail"
	"prelude/internal/pipeline"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/quotes"
)

// wireCapabilities connects capabilities that declare what they need from
// each other as small interfaces, so that neither imports the other: quotes
// check opportunities and notify through the follow-ups mechanism (in-app
// and the user's WeCom/DingTalk/Feishu/email channels).
func (s *Server) wireCapabilities() {
	s.Quotes.SetNotifier(followupsNotifier{s.Followups})
	s.Quotes.SetOpportunityLookup(opportunityLookup{s.Pipeline})
	s.Quotes.SetMailer(quoteMailer{s.Mail})
	s.Contracts.SetQuoteSource(acceptedQuotes{s.Quotes})
	// The pipeline's "has a quote" gate counts the deal's current quotes
	// that passed approval (approved, sent or accepted): a draft within
	// nobody's authority is not a quote the customer can have seen.
	s.Pipeline.RegisterCondition(pipeline.Condition{Key: "has_quote", LabelKey: "pipeline.gate.has_quote",
		Count: func(ctx context.Context, tx *db.Tx, o *pipeline.Opportunity) (int, error) {
			var n int
			err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM quotes WHERE opportunity_id = ? AND is_current = ? AND status IN (?, ?, ?)",
				o.ID, true, quotes.StatusApproved, quotes.StatusSent, quotes.StatusAccepted).Scan(&n)
			return n, err
		}})
}

// quoteMailer sends a quote from the company's first enabled mailbox with
// its PDF attached, queued in the sending transaction (it goes out if and
// only if the send commits).
type quoteMailer struct{ m *mail.Service }

func (q quoteMailer) SendQuote(ctx context.Context, tx *db.Tx, m quotes.QuoteMail) error {
	_, err := q.m.Send(ctx, tx, mail.Outgoing{To: []mail.Address{{Email: m.To}}, Subject: m.Subject, Text: m.Body,
		Files: []mail.File{{Filename: m.FileName, ContentType: "application/pdf", Data: m.PDF}}})
	return err
}

// acceptedQuotes gives contracts the accepted quote they are created from.
type acceptedQuotes struct{ q *quotes.Service }

func (a acceptedQuotes) AcceptedQuote(ctx context.Context, id string) (contracts.QuoteSnapshot, error) {
	qt, err := a.q.GetQuote(ctx, id)
	if err != nil {
		return contracts.QuoteSnapshot{}, err
	}
	if qt.Status != quotes.StatusAccepted {
		return contracts.QuoteSnapshot{}, errs.New(errs.Conflict, "quote_not_accepted", "contracts.quote_not_accepted")
	}
	snap := contracts.QuoteSnapshot{QuoteID: qt.ID, AccountID: qt.AccountID, OpportunityID: qt.OpportunityID, Currency: qt.Currency,
		TotalFen: qt.Totals.Total, PaymentTerms: qt.PaymentTerms, DeliveryTerms: qt.DeliveryTerms}
	for _, l := range qt.Lines {
		snap.Lines = append(snap.Lines, contracts.QuoteLine{Name: l.Name, Spec: l.Spec, Unit: l.Unit, QtyMilli: l.QtyMilli,
			UnitPriceFen: l.UnitPrice, DiscountBP: l.DiscountBP, TaxRateBP: l.TaxRateBP, TotalFen: l.Total})
	}
	return snap, nil
}

// followupsNotifier adapts followups.Notify to the positional form quotes use.
type followupsNotifier struct{ f *followups.Service }

func (n followupsNotifier) Notify(ctx context.Context, tx *db.Tx, userID, event, titleKey string, titleArgs []any, body, link, dedupeKey string) error {
	return n.f.Notify(ctx, tx, followups.Notice{UserID: userID, Event: event, TitleKey: titleKey, TitleArgs: titleArgs, Body: body, Link: link, DedupeKey: dedupeKey})
}

// opportunityLookup finds an opportunity in the caller's data scope.
type opportunityLookup struct{ p *pipeline.Service }

func (o opportunityLookup) LookupOpportunity(ctx context.Context, id string) (accountID, ownerID string, err error) {
	op, err := o.p.GetOpportunity(ctx, id)
	if err != nil {
		return "", "", err
	}
	return op.AccountID, op.OwnerID, nil
}

// convertInput turns an inquiry into an opportunity; every field is optional
// (the name defaults to the inquiry's subject).
type convertInput struct {
	Name          string `json:"name"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	ExpectedClose string `json:"expected_close"`
	PipelineID    string `json:"pipeline_id"`
	NextStep      string `json:"next_step"`
}

// inquiryToOpportunity is regulation 2's hand-over from consultation to
// the presales process in one step: the deal is on the inquiry's account,
// sourced from it (source_inquiry_id), so the conversation stays reachable
// from the deal and both sit on the account's timeline.
func (s *Server) inquiryToOpportunity(w http.ResponseWriter, r *http.Request) error {
	var in convertInput
	if err := httpx.Decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	inq, err := s.Inquiries.Get(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if inq.AccountID == nil || *inq.AccountID == "" {
		var v errs.Validation
		v.Add("account_id", "pipeline.inquiry_no_account")
		return v.Err()
	}
	name := in.Name
	if name == "" {
		name = inq.Subject
	}
	o, err := s.Pipeline.CreateOpportunity(ctx, pipeline.OpportunityInput{AccountID: *inq.AccountID, PipelineID: in.PipelineID, Name: name,
		Amount: in.Amount, Currency: in.Currency, ExpectedClose: in.ExpectedClose, Source: "inquiry", SourceInquiryID: inq.ID, NextStep: in.NextStep})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/opportunities/"+o.ID)
	w.Header().Set("ETag", fmt.Sprintf(`"%d"`, o.Version))
	httpx.WriteJSON(w, http.StatusCreated, o)
	return nil
}
