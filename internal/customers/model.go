// Package customers is the customer archive (客户档案, regulations 3 and 4):
// accounts and their contacts, logged calls, meetings and visits, the 360°
// timeline every capability writes to, duplicate detection and merging,
// confidential contact details, and Excel import/export.
package customers

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Enumerations (stored as lower_snake_case; the UI translates the labels).
var (
	Kinds          = []string{"company", "individual"}
	Sizes          = []string{"micro", "small", "medium", "large", "enterprise"}
	Sources        = []string{"referral", "website", "exhibition", "ecommerce", "cold_call", "advertising", "partner", "inquiry", "other"}
	Statuses       = []string{"prospect", "active", "dormant", "lost"}
	DefaultLevels  = []string{"A", "B", "C", "D"}
	PurchaseRoles  = []string{"decision_maker", "influencer", "user", "gatekeeper", "other"}
	ActivityKinds  = []string{"call", "meeting", "visit", "note"}
	Directions     = []string{"inbound", "outbound"}
	contactedKinds = []string{"call", "meeting", "visit"}
)

// Account is a customer: a company or an individual.
type Account struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	USCC          string     `json:"uscc"`
	Industry      string     `json:"industry"`
	Size          string     `json:"size"`
	ProvinceCode  string     `json:"province_code"`
	CityCode      string     `json:"city_code"`
	DistrictCode  string     `json:"district_code"`
	RegionName    string     `json:"region_name"`
	Address       string     `json:"address"`
	Source        string     `json:"source"`
	Level         string     `json:"level"`
	Status        string     `json:"status"`
	Tags          []string   `json:"tags"`
	OwnerID       string     `json:"owner_id"`
	OwnerName     string     `json:"owner_name"`
	DepartmentID  *string    `json:"department_id"`
	Needs         string     `json:"needs"`
	Concerns      string     `json:"concerns"`
	Opinions      string     `json:"opinions"`
	Suggestions   string     `json:"suggestions"`
	LastContactAt *time.Time `json:"last_contact_at"`
	Archived      bool       `json:"archived"`
	Collaborators []string   `json:"collaborator_ids"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// AccountInput creates an account.
type AccountInput struct {
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	USCC         string   `json:"uscc"`
	Industry     string   `json:"industry"`
	Size         string   `json:"size"`
	ProvinceCode string   `json:"province_code"`
	CityCode     string   `json:"city_code"`
	DistrictCode string   `json:"district_code"`
	Address      string   `json:"address"`
	Source       string   `json:"source"`
	Level        string   `json:"level"`
	Status       string   `json:"status"`
	Tags         []string `json:"tags"`
	OwnerID      string   `json:"owner_id"`
	Needs        string   `json:"needs"`
	Concerns     string   `json:"concerns"`
	Opinions     string   `json:"opinions"`
	Suggestions  string   `json:"suggestions"`
	// Contacts created together with the account.
	Contacts []ContactInput `json:"contacts"`
	// ConfirmDuplicates creates the account even if likely duplicates exist.
	ConfirmDuplicates bool `json:"confirm_duplicates"`
}

// AccountPatch updates the given fields.
type AccountPatch struct {
	Name         *string   `json:"name"`
	Kind         *string   `json:"kind"`
	USCC         *string   `json:"uscc"`
	Industry     *string   `json:"industry"`
	Size         *string   `json:"size"`
	ProvinceCode *string   `json:"province_code"`
	CityCode     *string   `json:"city_code"`
	DistrictCode *string   `json:"district_code"`
	Address      *string   `json:"address"`
	Source       *string   `json:"source"`
	Level        *string   `json:"level"`
	Status       *string   `json:"status"`
	Tags         *[]string `json:"tags"`
	Needs        *string   `json:"needs"`
	Concerns     *string   `json:"concerns"`
	Opinions     *string   `json:"opinions"`
	Suggestions  *string   `json:"suggestions"`
}

// Contact is a person at one or more accounts. Mobile, Phone, Email and
// WeChat are always masked in responses; Reveal returns them (audited).
type Contact struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Title     string        `json:"title"`
	Mobile    string        `json:"mobile"`
	Phone     string        `json:"phone"`
	Email     string        `json:"email"`
	WeChat    string        `json:"wechat"`
	Notes     string        `json:"notes"`
	OwnerID   string        `json:"owner_id"`
	Accounts  []ContactLink `json:"accounts"`
	Masked    bool          `json:"masked"`
	Version   int64         `json:"version"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// ContactLink is a contact's place at an account.
type ContactLink struct {
	AccountID    string `json:"account_id"`
	AccountName  string `json:"account_name,omitempty"`
	PurchaseRole string `json:"purchase_role"`
	IsPrimary    bool   `json:"is_primary"`
}

// ContactInput creates a contact.
type ContactInput struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	Mobile       string `json:"mobile"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	WeChat       string `json:"wechat"`
	Notes        string `json:"notes"`
	PurchaseRole string `json:"purchase_role"`
	IsPrimary    bool   `json:"is_primary"`
	// AccountID links the new contact (POST /contacts); nested creates use the parent.
	AccountID string `json:"account_id,omitempty"`
}

// ContactPatch updates a contact.
type ContactPatch struct {
	Name   *string `json:"name"`
	Title  *string `json:"title"`
	Mobile *string `json:"mobile"`
	Phone  *string `json:"phone"`
	Email  *string `json:"email"`
	WeChat *string `json:"wechat"`
	Notes  *string `json:"notes"`
}

// LinkInput links an existing contact to an account or changes the link.
type LinkInput struct {
	ContactID    string `json:"contact_id"`
	PurchaseRole string `json:"purchase_role"`
	IsPrimary    bool   `json:"is_primary"`
}

// RevealedContact holds clear contact details.
type RevealedContact struct {
	Mobile string `json:"mobile"`
	Phone  string `json:"phone"`
	Email  string `json:"email"`
	WeChat string `json:"wechat"`
}

// Activity is a logged call, meeting, visit or note.
type Activity struct {
	ID          string     `json:"id"`
	AccountID   string     `json:"account_id"`
	ContactID   *string    `json:"contact_id"`
	Kind        string     `json:"kind"`
	Direction   string     `json:"direction"`
	OccurredAt  time.Time  `json:"occurred_at"`
	DurationMin int        `json:"duration_min"`
	Subject     string     `json:"subject"`
	Summary     string     `json:"summary"`
	Outcome     string     `json:"outcome"`
	NextStep    string     `json:"next_step"`
	NextStepAt  *time.Time `json:"next_step_at"`
	OwnerID     string     `json:"owner_id"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
}

// ActivityInput logs an activity.
type ActivityInput struct {
	Kind        string     `json:"kind"`
	Direction   string     `json:"direction"`
	ContactID   string     `json:"contact_id"`
	OccurredAt  *time.Time `json:"occurred_at"`
	DurationMin int        `json:"duration_min"`
	Subject     string     `json:"subject"`
	Summary     string     `json:"summary"`
	Outcome     string     `json:"outcome"`
	NextStep    string     `json:"next_step"`
	NextStepAt  *time.Time `json:"next_step_at"`
}

// Event is one entry of an account's timeline.
type Event struct {
	ID         string         `json:"id"`
	AccountID  string         `json:"account_id"`
	Kind       string         `json:"kind"`
	RefType    string         `json:"ref_type"`
	RefID      string         `json:"ref_id"`
	ActorID    string         `json:"actor_id"`
	ActorName  string         `json:"actor_name"`
	OccurredAt time.Time      `json:"occurred_at"`
	Title      string         `json:"title"`
	Body       string         `json:"body"`
	Data       map[string]any `json:"data"`
}

// Duplicate is a likely duplicate of an account being created or imported.
type Duplicate struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	OwnerID string   `json:"owner_id"`
	Reasons []string `json:"reasons"` // uscc, name, mobile, email
	// Visible is false for a duplicate outside the caller's scope: they
	// learn that it exists (so they do not create it twice) but not its ID.
	Visible bool `json:"visible"`
}

// DuplicateQuery asks for likely duplicates.
type DuplicateQuery struct {
	Name      string   `json:"name"`
	USCC      string   `json:"uscc"`
	Mobiles   []string `json:"mobiles"`
	Emails    []string `json:"emails"`
	ExcludeID string   `json:"exclude_id"`
}

// TransferInput hands an account to another owner.
type TransferInput struct {
	OwnerID string `json:"owner_id"`
	Reason  string `json:"reason"`
}

// MergeInput merges SourceID into the account in the path.
type MergeInput struct {
	SourceID string `json:"source_id"`
}

// CollaboratorsInput replaces an account's collaborators.
type CollaboratorsInput struct {
	UserIDs []string `json:"user_ids"`
}

// BulkInput applies one change to several accounts.
type BulkInput struct {
	AccountIDs []string `json:"account_ids"`
	OwnerID    string   `json:"owner_id"`
	AddTags    []string `json:"add_tags"`
	RemoveTags []string `json:"remove_tags"`
	Reason     string   `json:"reason"`
}

// BulkResult reports a bulk change.
type BulkResult struct {
	Updated int `json:"updated"`
}

// AccountFilter selects accounts in a list.
type AccountFilter struct {
	Q              string
	OwnerID        string
	Status         string
	Level          string
	Source         string
	Kind           string
	Industry       string
	ProvinceCode   string
	CityCode       string
	Tag            string
	NoContactDays  int
	IncludeArchive bool
	Sort           string
}

// companySuffixes are dropped when comparing company names for duplicates:
// "深圳市腾云科技有限公司" and "深圳腾云科技" are likely the same company.
var companySuffixes = []string{"股份有限公司", "有限责任公司", "有限公司", "集团公司", "股份公司", "公司", "集团", "股份", "有限"}

// NameKey normalises a company or person name for duplicate detection:
// NFKC (full-width to half-width), lower case, no spaces or punctuation, no
// "(中国)" marker, no legal-form suffix.
func NameKey(name string) string {
	s := strings.ToLower(norm.NFKC.String(name))
	s = strings.ReplaceAll(s, "(中国)", "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return r
	}, s)
	for changed := true; changed; {
		changed = false
		for _, suf := range companySuffixes {
			if strings.HasSuffix(s, suf) && len(s) > len(suf) {
				s = strings.TrimSuffix(s, suf)
				changed = true
			}
		}
	}
	return s
}

func oneOf(list []string, v string) bool { return slices.Contains(list, v) }
