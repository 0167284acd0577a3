package httpx

import "prelude/internal/platform/errs"

var (
	routeNotFound    = &errs.Error{Kind: errs.NotFound, Code: "route_not_found", Key: "err.route_not_found"}
	methodNotAllowed = &errs.Error{Kind: errs.NotAllowed, Code: "method_not_allowed", Key: "err.method_not_allowed"}
)
