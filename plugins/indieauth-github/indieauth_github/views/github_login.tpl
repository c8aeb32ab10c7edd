<form id="github-login" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="github-error" role="alert">{{error}}</p>
  % end
  % if user:
  <p id="github-help">Confirm that it is you with the GitHub account that <strong>{{user.me}}</strong> links to.</p>
  % else:
  <label for="github-me">Your website (profile URL)</label>
  <input type="url" id="github-me" name="me" value="{{me}}" placeholder="https://example.com/" autocomplete="url"
         inputmode="url" autocapitalize="none" spellcheck="false" required
         aria-describedby="github-help{{' github-error' if error else ''}}"{{!' aria-invalid="true"' if error else ''}}>
  <p class="muted" id="github-help">Your website must link to your GitHub profile with <code>rel="me"</code>, and
  your GitHub profile must link back to your website.</p>
  % end
  <button type="submit">Sign in with GitHub</button>
</form>
