package planpreview

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeGitLab keeps merge-request notes like GitLab's notes API, two per page.
type fakeGitLab struct {
	mu    sync.Mutex
	notes []map[string]any
	posts int
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != "tok" {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	const base = "/api/v4/projects/group%2Fproj/merge_requests/7/notes"
	var in struct{ Body string }
	switch {
	case r.Method == http.MethodGet && r.URL.EscapedPath() == base:
		page := 1
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		lo, hi := min(2*(page-1), len(f.notes)), min(2*page, len(f.notes))
		if hi < len(f.notes) {
			w.Header().Set("X-Next-Page", fmt.Sprint(page+1))
		}
		json.NewEncoder(w).Encode(f.notes[lo:hi])
	case r.Method == http.MethodPost && r.URL.EscapedPath() == base:
		json.NewDecoder(r.Body).Decode(&in)
		f.posts++
		n := map[string]any{"id": len(f.notes) + 1, "body": in.Body}
		f.notes = append(f.notes, n)
		json.NewEncoder(w).Encode(n)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.EscapedPath(), base+"/"):
		json.NewDecoder(r.Body).Decode(&in)
		var id int
		fmt.Sscan(strings.TrimPrefix(r.URL.EscapedPath(), base+"/"), &id)
		f.notes[id-1]["body"] = in.Body
		json.NewEncoder(w).Encode(f.notes[id-1])
	default:
		http.NotFound(w, r)
	}
}

func TestGitLabNoteIsUpdatedNotDuplicated(t *testing.T) {
	fake := &fakeGitLab{notes: []map[string]any{{"id": 1, "body": "LGTM"}, {"id": 2, "body": "nit"}, {"id": 3, "body": "other bot"}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env := map[string]string{"CI_API_V4_URL": srv.URL + "/api/v4", "CI_PROJECT_ID": "group/proj", "CI_MERGE_REQUEST_IID": "7", "PLANPREVIEW_GITLAB_TOKEN": "tok"}
	n, err := GitLabNoteFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := n.Upsert(ctx, Marker+"\nplan 1")
	if err != nil {
		t.Fatal(err)
	}
	second, err := n.Upsert(ctx, Marker+"\nplan 2")
	if err != nil {
		t.Fatal(err)
	}
	if first != 4 || second != 4 || fake.posts != 1 {
		t.Errorf("want one note (id 4) posted once and then updated; got ids %d, %d and %d posts", first, second, fake.posts)
	}
	if got := fake.notes[3]["body"]; got != Marker+"\nplan 2" {
		t.Errorf("note body %q, want the second plan", got)
	}

	n.Token = "wrong"
	if _, err := n.Upsert(ctx, Marker); err == nil || !strings.Contains(err.Error(), "api scope") {
		t.Errorf("a rejected token must say what the token needs, got %v", err)
	}
}

func TestGitLabNoteFromEnvSaysWhatIsMissing(t *testing.T) {
	_, err := GitLabNoteFromEnv(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "CI_MERGE_REQUEST_IID") {
		t.Errorf("got %v", err)
	}
	env := map[string]string{"CI_API_V4_URL": "x", "CI_PROJECT_ID": "1", "CI_MERGE_REQUEST_IID": "2"}
	_, err = GitLabNoteFromEnv(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "PLANPREVIEW_GITLAB_TOKEN") {
		t.Errorf("got %v", err)
	}
}
