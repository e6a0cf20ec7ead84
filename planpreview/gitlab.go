package planpreview

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// GitLabNote posts body as a merge-request note, or updates the note an
// earlier pipeline of the same merge request posted (found by Marker), so
// each push refreshes one comment instead of adding another.
type GitLabNote struct {
	// APIURL is CI_API_V4_URL, e.g. https://gitlab.com/api/v4.
	APIURL, ProjectID, MergeRequestIID string
	// Token: a project access token with the api scope (CI_JOB_TOKEN
	// cannot write notes).
	Token  string
	Client *http.Client
}

// GitLabNoteFromEnv reads the settings a merge-request pipeline provides
// (plus PLANPREVIEW_GITLAB_TOKEN) and says which one is missing.
func GitLabNoteFromEnv(getenv func(string) string) (*GitLabNote, error) {
	n := &GitLabNote{
		APIURL: getenv("CI_API_V4_URL"), ProjectID: getenv("CI_PROJECT_ID"),
		MergeRequestIID: getenv("CI_MERGE_REQUEST_IID"), Token: getenv("PLANPREVIEW_GITLAB_TOKEN"),
	}
	var missing []string
	for _, k := range []string{"CI_API_V4_URL", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID"} {
		if getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not in a GitLab merge-request pipeline (%s unset): run this job only with rules: if $CI_MERGE_REQUEST_IID", strings.Join(missing, ", "))
	}
	if n.Token == "" {
		return nil, fmt.Errorf("PLANPREVIEW_GITLAB_TOKEN is unset: create a project access token (role Reporter, scope api) and store it as a masked CI/CD variable of that name (docs/CI.md)")
	}
	return n, nil
}

// Upsert creates or updates the note and returns its id.
func (n *GitLabNote) Upsert(ctx context.Context, body string) (int, error) {
	base := strings.TrimSuffix(n.APIURL, "/") + "/projects/" + url.PathEscape(n.ProjectID) + "/merge_requests/" + url.PathEscape(n.MergeRequestIID) + "/notes"
	id, err := n.find(ctx, base)
	if err != nil {
		return 0, err
	}
	method, target := http.MethodPost, base
	if id != 0 {
		method, target = http.MethodPut, fmt.Sprintf("%s/%d", base, id)
	}
	var note struct {
		ID int `json:"id"`
	}
	err = n.do(ctx, method, target, map[string]string{"body": body}, &note, nil)
	return note.ID, err
}

// find returns the id of the note that starts with Marker, or 0.
func (n *GitLabNote) find(ctx context.Context, base string) (int, error) {
	page := "1"
	for page != "" {
		var notes []struct {
			ID   int    `json:"id"`
			Body string `json:"body"`
		}
		var hdr http.Header
		if err := n.do(ctx, http.MethodGet, base+"?per_page=100&sort=asc&page="+url.QueryEscape(page), nil, &notes, &hdr); err != nil {
			return 0, err
		}
		for _, note := range notes {
			if strings.HasPrefix(note.Body, Marker) {
				return note.ID, nil
			}
		}
		page = hdr.Get("X-Next-Page")
	}
	return 0, nil
}

func (n *GitLabNote) do(ctx context.Context, method, target string, in, out any, hdr *http.Header) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.Header.Set("PRIVATE-TOKEN", n.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := n.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GitLab API %s: %w", method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (PLANPREVIEW_GITLAB_TOKEN needs the api scope and at least the Reporter role)"
		}
		return fmt.Errorf("GitLab API %s %s: HTTP %d: %s%s", method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(msg)), hint)
	}
	if hdr != nil {
		*hdr = resp.Header
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
