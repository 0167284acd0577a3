package pipeline

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes the pipeline over HTTP.
type API struct {
	Svc *Service
	// Zone is the business time zone (trial expiry reminders at 09:00).
	Zone *time.Location
}

type closeBody struct {
	Reason         string `json:"reason"`
	LostToID       string `json:"lost_to_id"`
	OverrideReason string `json:"override_reason"`
}

type usersBody struct {
	UserIDs []string `json:"user_ids"`
}

type orderBody struct {
	StageIDs []string `json:"stage_ids"`
}

type listPage struct {
	Items      []*Opportunity `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Total      int            `json:"total"`
	Totals     ListTotals     `json:"totals"`
}

func versioned(w http.ResponseWriter, status int, v int64, body any) {
	httpx.SetETag(w, v)
	httpx.WriteJSON(w, status, body)
}

func page[T any](w http.ResponseWriter, items []T) {
	httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
}

// Routes registers the pipeline endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	if a.Zone == nil {
		a.Zone = time.FixedZone("CST", 8*3600)
	}
	tag := "pipeline"
	h := func(method, path, summary string, req, resp any, status int, fn httpx.HandlerFunc, query ...string) {
		rt.Handle(httpx.Route{Method: method, Path: path, Tag: tag, Summary: summary, Request: req, Response: resp, Status: status, Query: query}, fn)
	}

	// ---- opportunities ----
	h("GET", "/api/v1/opportunities", "Opportunities in my data scope, with the filtered count and amounts", nil, listPage{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			f := Filter{PipelineID: q.Get("pipeline_id"), StageID: q.Get("stage_id"), Status: q.Get("status"), OwnerID: q.Get("owner_id"),
				DepartmentID: q.Get("department_id"), AccountID: q.Get("account_id"), CloseFrom: q.Get("close_from"), CloseTo: q.Get("close_to"), Q: lp.Q}
			items, next, tot, err := s.List(r.Context(), f, lp)
			if err != nil {
				return err
			}
			p := httpx.NewPage(items, next, tot.Count)
			httpx.WriteJSON(w, 200, listPage{Items: p.Items, NextCursor: p.NextCursor, Total: p.Total, Totals: tot})
			return nil
		}, "pipeline_id", "stage_id", "status", "owner_id", "department_id", "account_id", "close_from", "close_to", "q", "sort", "limit", "cursor")
	h("POST", "/api/v1/opportunities", "Open an opportunity on an account", OpportunityInput{}, Opportunity{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in OpportunityInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			o, err := s.CreateOpportunity(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/opportunities/"+o.ID)
			versioned(w, 201, o.Version, o)
			return nil
		})
	h("GET", "/api/v1/opportunities/{id}", "Get an opportunity", nil, Opportunity{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			o, err := s.GetOpportunity(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			versioned(w, 200, o.Version, o)
			return nil
		})
	h("PATCH", "/api/v1/opportunities/{id}", "Edit an opportunity (If-Match)", OpportunityPatch{}, Opportunity{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in OpportunityPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			o, err := s.UpdateOpportunity(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, o.Version, o)
			return nil
		})
	h("DELETE", "/api/v1/opportunities/{id}", "Delete an opportunity and its records (If-Match)", nil, nil, 204,
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteOpportunity(r.Context(), r.PathValue("id"), v); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/move", "Move to another stage: gates checked (422 lists what is missing); managers may override with a reason; If-Match → 412 if someone moved it first",
		MoveInput{}, Opportunity{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in MoveInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			o, err := s.Move(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, o.Version, o)
			return nil
		})
	for _, act := range []string{"win", "lose"} {
		act := act
		summary := "Mark won (reason required; passes the remaining gates into the last stage)"
		if act == "lose" {
			summary = "Mark lost (reason and the competitor it was lost to required)"
		}
		h("POST", "/api/v1/opportunities/{id}/"+act, summary, closeBody{}, Opportunity{}, 200,
			func(w http.ResponseWriter, r *http.Request) error {
				var in closeBody
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				v, err := httpx.IfMatch(r)
				if err != nil {
					return err
				}
				var o *Opportunity
				if act == "win" {
					o, err = s.Win(r.Context(), r.PathValue("id"), v, CloseInput{Reason: in.Reason, LostToID: in.LostToID}, in.OverrideReason)
				} else {
					if in.OverrideReason != "" {
						return &errs.Error{Kind: errs.BadRequest, Code: "unknown_field", Key: "err.unknown_field", Args: []any{"override_reason"}}
					}
					o, err = s.Lose(r.Context(), r.PathValue("id"), v, CloseInput{Reason: in.Reason, LostToID: in.LostToID})
				}
				if err != nil {
					return err
				}
				versioned(w, 200, o.Version, o)
				return nil
			})
	}
	h("PUT", "/api/v1/opportunities/{id}/collaborators", "Share an opportunity with colleagues", usersBody{}, Opportunity{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in usersBody
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			o, err := s.SetCollaborators(r.Context(), r.PathValue("id"), in.UserIDs)
			if err != nil {
				return err
			}
			versioned(w, 200, o.Version, o)
			return nil
		})
	h("GET", "/api/v1/opportunities/{id}/history", "Stage history with time spent in each stage", nil, httpx.Page[StageVisit]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.History(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})

	// ---- board and forecast ----
	h("GET", "/api/v1/pipelines/{id}/board", "Kanban: each stage with its first 50 open deals and its count and amounts, filtered by owner, department, expected close range or name", nil, Board{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			b, err := s.Board(r.Context(), r.PathValue("id"), Filter{OwnerID: q.Get("owner_id"), DepartmentID: q.Get("department_id"),
				CloseFrom: q.Get("close_from"), CloseTo: q.Get("close_to"), Q: strings.TrimSpace(q.Get("q"))})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, b)
			return nil
		}, "owner_id", "department_id", "close_from", "close_to", "q")
	h("GET", "/api/v1/opportunity-forecast", "Weighted amount (amount × probability) of open deals by month of expected close, by owner or department",
		nil, httpx.Page[ForecastRow]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			rows, err := s.Forecast(r.Context(), q.Get("group_by"), q.Get("pipeline_id"), q.Get("from"), q.Get("to"))
			if err != nil {
				return err
			}
			page(w, rows)
			return nil
		}, "group_by", "pipeline_id", "from", "to")

	// ---- pipelines and stages ----
	h("GET", "/api/v1/pipelines", "Pipelines with their stages, probabilities and gates", nil, httpx.Page[*Pipeline]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Pipelines(r.Context())
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("GET", "/api/v1/pipeline-conditions", "The catalogue of gate conditions a stage can require", nil, []ConditionInfo{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			if err := authz.From(r.Context()).Require(authz.OpportunitiesRead); err != nil {
				return err
			}
			page(w, s.Conditions(httpx.Lang(r)))
			return nil
		})
	h("POST", "/api/v1/pipelines", "Add a pipeline with its stages (administrators)", PipelineInput{}, Pipeline{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in PipelineInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			p, err := s.CreatePipeline(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/pipelines/"+p.ID)
			versioned(w, 201, p.Version, p)
			return nil
		})
	h("GET", "/api/v1/pipelines/{id}", "Get a pipeline", nil, Pipeline{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			p, err := s.GetPipeline(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			versioned(w, 200, p.Version, p)
			return nil
		})
	h("PATCH", "/api/v1/pipelines/{id}", "Rename a pipeline (If-Match)", PipelineInput{}, Pipeline{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in PipelineInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			p, err := s.UpdatePipeline(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, p.Version, p)
			return nil
		})
	h("PUT", "/api/v1/pipelines/{id}/stage-order", "Reorder a pipeline's stages (If-Match on the pipeline)", orderBody{}, Pipeline{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in orderBody
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			p, err := s.ReorderStages(r.Context(), r.PathValue("id"), v, in.StageIDs)
			if err != nil {
				return err
			}
			versioned(w, 200, p.Version, p)
			return nil
		})
	h("POST", "/api/v1/pipelines/{id}/stages", "Add a stage at the end of a pipeline", StageInput{}, Stage{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in StageInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			st, err := s.AddStage(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			versioned(w, 201, st.Version, st)
			return nil
		})
	h("PATCH", "/api/v1/pipeline-stages/{id}", "Rename a stage, set its probability and gates (If-Match)", StageInput{}, Stage{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in StageInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			st, err := s.UpdateStage(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, st.Version, st)
			return nil
		})
	h("DELETE", "/api/v1/pipeline-stages/{id}", "Delete a stage; with deals in it, move_to names where they go (else 409)", nil, nil, 204,
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteStage(r.Context(), r.PathValue("id"), v, r.URL.Query().Get("move_to")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		}, "move_to")

	a.evidenceRoutes(rt, h)
}

type handle func(method, path, summary string, req, resp any, status int, fn httpx.HandlerFunc, query ...string)

func (a *API) evidenceRoutes(rt *httpx.Router, h handle) {
	s := a.Svc
	// ---- requirements and feasibility ----
	h("GET", "/api/v1/opportunities/{id}/requirements", "A deal's requirements in order", nil, httpx.Page[*Requirement]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Requirements(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/requirements", "Add a requirement", RequirementInput{}, Requirement{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in RequirementInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.AddRequirement(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			versioned(w, 201, x.Version, x)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/requirements/bulk", "Add requirements from selected text, one per line (\"product | quantity | unit | spec\")", BulkRequirementsInput{},
		httpx.Page[*Requirement]{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in BulkRequirementsInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			items, err := s.BulkRequirements(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	h("PATCH", "/api/v1/requirements/{id}", "Edit or reorder a requirement (If-Match)", RequirementInput{}, Requirement{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in RequirementInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.UpdateRequirement(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	h("DELETE", "/api/v1/requirements/{id}", "Delete a requirement no solution answers (If-Match)", nil, nil, 204,
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteRequirement(r.Context(), r.PathValue("id"), v); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	h("POST", "/api/v1/requirements/{id}/feasibility", "Record the feasibility verdict (If-Match)", FeasibilityInput{}, Requirement{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in FeasibilityInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.Analyse(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})

	// ---- technical support requests ----
	h("GET", "/api/v1/opportunities/{id}/support-requests", "A deal's tech support requests", nil, httpx.Page[*SupportRequest]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.SupportRequests(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/support-requests", "Ask the technical department (assignee gets a task with reminders and escalation)", SupportInput{}, SupportRequest{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in SupportInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.RequestSupport(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/support-requests/"+x.ID)
			versioned(w, 201, x.Version, x)
			return nil
		})
	h("GET", "/api/v1/support-requests", "Tech support requests assigned to me (scope=team: to anyone in my data scope), most urgent first", nil, httpx.Page[*SupportRequest]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.MySupportRequests(r.Context(), r.URL.Query().Get("status"), r.URL.Query().Get("scope"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		}, "status", "scope")
	h("GET", "/api/v1/support-assignees", "Colleagues who answer tech support requests (for the request form)", nil, httpx.Page[Assignee]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.SupportAssignees(r.Context())
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("GET", "/api/v1/support-requests/{id}", "Get a tech support request", nil, SupportRequest{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			x, _, err := s.visibleSupport(r.Context(), s.db, r.PathValue("id"))
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	h("POST", "/api/v1/support-requests/{id}/answer", "Answer a tech support request (techsupport.answer)", AnswerInput{}, SupportRequest{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in AnswerInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.AnswerSupport(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	h("POST", "/api/v1/support-requests/{id}/close", "Close a tech support request", nil, SupportRequest{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.CloseSupport(r.Context(), r.PathValue("id"), v)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})

	// ---- solutions ----
	h("GET", "/api/v1/opportunities/{id}/solutions", "A deal's solution versions, newest first", nil, httpx.Page[*Solution]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Solutions(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/solutions", "Start the next solution version (HTML is sanitised)", SolutionInput{}, Solution{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in SolutionInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.CreateSolution(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/solutions/"+x.ID)
			versioned(w, 201, x.Version, x)
			return nil
		})
	h("GET", "/api/v1/opportunities/{id}/coverage", "Which requirements each solution version answers", nil, Coverage{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := s.Coverage(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	h("GET", "/api/v1/solutions/{id}", "Get a solution version", nil, Solution{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			x, err := s.GetSolution(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	h("PATCH", "/api/v1/solutions/{id}", "Edit a draft solution (If-Match)", SolutionInput{}, Solution{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in SolutionInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.UpdateSolution(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	h("POST", "/api/v1/solutions/{id}/submit", "Submit for the department head's review; earlier versions lock", nil, Solution{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.SubmitSolution(r.Context(), r.PathValue("id"), v)
			if err != nil {
				return err
			}
			versioned(w, 200, x.Version, x)
			return nil
		})
	for _, act := range []string{"approve", "reject"} {
		act := act
		h("POST", "/api/v1/solutions/{id}/"+act, strings.ToUpper(act[:1])+act[1:]+" a submitted solution (solutions.approve; a second review is 409)", ReviewInput{}, Solution{}, 200,
			func(w http.ResponseWriter, r *http.Request) error {
				var in ReviewInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				x, err := s.ReviewSolution(r.Context(), r.PathValue("id"), act == "approve", in)
				if err != nil {
					return err
				}
				versioned(w, 200, x.Version, x)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/solutions/{id}/attachments", Tag: "pipeline", Status: 201, BodyLimit: s.cfg.MaxAttachment,
		Summary: "Attach a file to a draft solution (raw body; filename in the query)", Query: []string{"filename"}, Response: Attachment{}},
		func(w http.ResponseWriter, r *http.Request) error {
			data, err := io.ReadAll(r.Body)
			if err != nil {
				return err // 413 when over the limit
			}
			name := r.URL.Query().Get("filename")
			if name == "" {
				if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
					name = params["filename"]
				}
			}
			a, err := s.AddAttachment(r.Context(), r.PathValue("id"), name, r.Header.Get("Content-Type"), data)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, a)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/solution-attachments/{id}", Tag: "pipeline", Summary: "Download a solution attachment"},
		func(w http.ResponseWriter, r *http.Request) error {
			a, data, err := s.Attachment(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", a.ContentType)
			w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(a.Filename))
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Header().Set("Cache-Control", "private, no-store")
			w.Write(data)
			return nil
		})

	// ---- review queues ----
	h("GET", "/api/v1/solutions", "Solution versions in one status across the deals I see (default submitted: the review queue)", nil, httpx.Page[*Solution]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.SolutionQueue(r.Context(), r.URL.Query().Get("status"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		}, "status")
	h("GET", "/api/v1/demos", "Demo and trial requests in one status across the deals I see (default requested: the approval queue)", nil, httpx.Page[*Demo]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.DemoQueue(r.Context(), r.URL.Query().Get("status"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		}, "status")

	// ---- demos and trials ----
	h("GET", "/api/v1/opportunities/{id}/demos", "A deal's demo and trial requests", nil, httpx.Page[*Demo]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Demos(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/demos", "Request a demo or trial (needs a manager's approval)", DemoInput{}, Demo{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in DemoInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			d, err := s.RequestDemo(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			versioned(w, 201, d.Version, d)
			return nil
		})
	for _, act := range []string{"approve", "reject"} {
		act := act
		h("POST", "/api/v1/demos/{id}/"+act, strings.ToUpper(act[:1])+act[1:]+" a demo/trial request (demos.approve)", ReviewInput{}, Demo{}, 200,
			func(w http.ResponseWriter, r *http.Request) error {
				var in ReviewInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				d, err := s.ReviewDemo(r.Context(), r.PathValue("id"), act == "approve", in, a.Zone)
				if err != nil {
					return err
				}
				versioned(w, 200, d.Version, d)
				return nil
			})
	}
	h("POST", "/api/v1/demos/{id}/outcome", "Record how a demo or trial went (If-Match)", OutcomeInput{}, Demo{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in OutcomeInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			d, err := s.DemoOutcome(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, d.Version, d)
			return nil
		})

	// ---- negotiations, research, competitors ----
	h("GET", "/api/v1/opportunities/{id}/negotiations", "A deal's negotiation records", nil, httpx.Page[*Negotiation]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Negotiations(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		})
	h("POST", "/api/v1/opportunities/{id}/negotiations", "Record a negotiation (price, delivery, after-sales, payment)", NegotiationInput{}, Negotiation{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in NegotiationInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			n, err := s.RecordNegotiation(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			versioned(w, 201, n.Version, n)
			return nil
		})
	h("GET", "/api/v1/research-notes", "Market research on an account or a deal", nil, httpx.Page[*ResearchNote]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ResearchNotes(r.Context(), r.URL.Query().Get("account_id"), r.URL.Query().Get("opportunity_id"))
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		}, "account_id", "opportunity_id")
	h("POST", "/api/v1/research-notes", "Record market research (industry, needs, competitors)", ResearchInput{}, ResearchNote{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in ResearchInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			n, err := s.AddResearchNote(r.Context(), in)
			if err != nil {
				return err
			}
			versioned(w, 201, n.Version, n)
			return nil
		})
	h("GET", "/api/v1/competitors", "Competitor profiles", nil, httpx.Page[*Competitor]{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, err := s.Competitors(r.Context(), lp.Q)
			if err != nil {
				return err
			}
			page(w, items)
			return nil
		}, "q")
	h("POST", "/api/v1/competitors", "Add a competitor profile", CompetitorInput{}, Competitor{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in CompetitorInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.SaveCompetitor(r.Context(), "", 0, in)
			if err != nil {
				return err
			}
			versioned(w, 201, c.Version, c)
			return nil
		})
	h("GET", "/api/v1/competitors/{id}", "A competitor profile with the prices seen", nil, Competitor{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := s.GetCompetitor(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			versioned(w, 200, c.Version, c)
			return nil
		})
	h("PATCH", "/api/v1/competitors/{id}", "Edit a competitor profile (If-Match)", CompetitorInput{}, Competitor{}, 200,
		func(w http.ResponseWriter, r *http.Request) error {
			var in CompetitorInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.SaveCompetitor(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			versioned(w, 200, c.Version, c)
			return nil
		})
	h("POST", "/api/v1/competitors/{id}/prices", "Record a price seen for a competitor's product", PriceInput{}, Competitor{}, 201,
		func(w http.ResponseWriter, r *http.Request) error {
			var in PriceInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.AddPrice(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, c)
			return nil
		})
}
