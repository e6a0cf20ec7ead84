package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Fault makes the front fail the requests it matches the way the AWS API
// in question fails: its own throttling error, a server error, a slow
// answer or a dropped connection. The fault tests (e2e/faults_*_test.go)
// put it between the task and the emulator:
//
//	f := &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, AccessKey: taskKey, Mode: emulator.Throttle}
//	clear := emu.Override(f.Override())
type Fault struct {
	// Service is the API's SigV4 signing name: ec2, ssm, sns, ...
	Service string
	// Actions are the operations that fail (DescribeInstances,
	// GetParameters); none: every operation of the service.
	Actions []string
	// AccessKey, when set, fails only requests signed with that key (a task
	// role's), so the outage is the caller's alone: the test's own calls
	// and Terraform's go through.
	AccessKey string
	Mode      Mode
	// Status of a ServerError: 500 (the default) or 503.
	Status int
	// Delay of a Slow answer, which then comes as usual.
	Delay time.Duration

	hits atomic.Int64
}

// Mode is how a Fault fails a request.
type Mode int

const (
	// Throttle answers the service's throttling error, in its protocol's
	// shape (ThrottlingException 400 for JSON APIs, RequestLimitExceeded
	// 503 for EC2, Throttled 429 for SNS, ...).
	Throttle Mode = iota + 1
	// ServerError answers Status with the service's error for it
	// (InternalServerError, InternalFailure, ServiceUnavailable, ...).
	ServerError
	// Slow waits Delay, then lets the request through.
	Slow
	// Drop closes the connection without an answer.
	Drop
)

func (m Mode) String() string {
	switch m {
	case Throttle:
		return "throttled"
	case ServerError:
		return "server error"
	case Slow:
		return "slow"
	case Drop:
		return "dropped"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Override is the front override that injects the fault.
func (f *Fault) Override() Override {
	return func(r *Request) (Answer, bool) {
		if !f.matches(r) {
			return Answer{}, false
		}
		f.hits.Add(1)
		switch f.Mode {
		case Slow:
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
			}
			return Answer{}, false // the next override or moto answers
		case Drop:
			return Answer{Drop: true}, true
		case Throttle:
			return errorAnswer(r, f.Service, throttling(f.Service, r.Target != "")), true
		case ServerError:
			return errorAnswer(r, f.Service, serverError(f.Service, f.Status)), true
		}
		panic(fmt.Sprintf("emulator: fault on %s with no mode", f.Service))
	}
}

// Hits counts the requests the fault has failed (or slowed) so far.
func (f *Fault) Hits() int64 { return f.hits.Load() }

// Describe says what the fault does, for records and messages, e.g.
// "ssm GetParameters, GetParameter throttled (ThrottlingException, HTTP 400)".
func (f *Fault) Describe() string {
	what := f.Service
	if len(f.Actions) > 0 {
		what += " " + strings.Join(f.Actions, ", ")
	}
	switch f.Mode {
	case Throttle, ServerError:
		e := throttling(f.Service, jsonService(f.Service))
		if f.Mode == ServerError {
			e = serverError(f.Service, f.Status)
		}
		return fmt.Sprintf("%s %s (%s, HTTP %d)", what, f.Mode, e.code, e.status)
	case Slow:
		return fmt.Sprintf("%s %s (answered after %s)", what, f.Mode, f.Delay)
	}
	return what + " " + f.Mode.String() + " (connection closed, no answer)"
}

func (f *Fault) matches(r *Request) bool {
	service, key := signedBy(r.Header.Get("Authorization"))
	if service != f.Service || (f.AccessKey != "" && key != f.AccessKey) {
		return false
	}
	return len(f.Actions) == 0 || slices.Contains(f.Actions, action(r))
}

// signedBy reads the service and the access key of a SigV4 Authorization
// header: "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...".
func signedBy(auth string) (service, key string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[3], parts[0]
}

// action is the operation a request calls: X-Amz-Target's last part for
// the JSON protocols, the Action field for the Query ones (EC2's too).
func action(r *Request) string {
	if r.Target != "" {
		return r.Target[strings.LastIndex(r.Target, ".")+1:]
	}
	if form, err := url.ParseQuery(string(r.Body)); err == nil && form.Get("Action") != "" {
		return form.Get("Action")
	}
	return r.URL.Query().Get("Action")
}

// serviceError is an error as a service sends it.
type serviceError struct {
	status        int
	code, message string
}

// jsonService reports whether a service speaks a JSON protocol, for
// Describe (a request says so itself by its X-Amz-Target).
func jsonService(service string) bool {
	return !slices.Contains([]string{"ec2", "sns", "sqs", "iam", "sts", "cloudwatch", "autoscaling", "elasticloadbalancing"}, service)
}

// throttling is the service's "slow down" error, from its API reference.
func throttling(service string, json bool) serviceError {
	switch {
	case service == "ec2":
		return serviceError{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."}
	case service == "sns":
		return serviceError{http.StatusTooManyRequests, "Throttled", "Rate exceeded"}
	case json:
		return serviceError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	}
	return serviceError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
}

// serverError is the service's error for an HTTP 500 or 503.
func serverError(service string, status int) serviceError {
	if status == http.StatusServiceUnavailable {
		if service == "ec2" {
			return serviceError{status, "Unavailable", "The server is overloaded and can't handle the request."}
		}
		return serviceError{status, "ServiceUnavailable", "Service is unable to handle request."}
	}
	switch service {
	case "ec2", "sns":
		return serviceError{http.StatusInternalServerError, "InternalError", "An internal error has occurred."}
	case "ssm":
		return serviceError{http.StatusInternalServerError, "InternalServerError", "An error occurred on the server side."}
	}
	return serviceError{http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error."}
}

// errorAnswer encodes e in the request's protocol: JSON (__type), EC2's
// Query dialect (Response/Errors/Error) or Query (ErrorResponse/Error).
func errorAnswer(r *Request, service string, e serviceError) Answer {
	id := fmt.Sprintf("fault-%d", time.Now().UnixNano())
	if r.Target != "" {
		return apiError(e.status, e.code, "%s", e.message)
	}
	const xmlType = "text/xml; charset=UTF-8"
	if service == "ec2" {
		return Answer{Status: e.status, ContentType: xmlType, Body: fmt.Appendf(nil,
			`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			e.code, e.message, id)}
	}
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	return Answer{Status: e.status, ContentType: xmlType, Body: fmt.Appendf(nil,
		`<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		kind, e.code, e.message, id)}
}
