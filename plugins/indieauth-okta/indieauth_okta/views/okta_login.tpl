<form id="okta-login" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="okta-error" role="alert">{{error}}</p>
  % end
  % if user:
  <p>Okta Verify will ask on your phone whether this is you signing in as <strong>{{user.username}}</strong>.</p>
  % elif sole_user:
  <input type="text" id="okta-username" name="username" value="{{username}}" autocomplete="username" hidden readonly>
  <p>Okta Verify will ask on your phone whether this is you signing in.</p>
  % else:
  <label for="okta-username">User name</label>
  <input type="text" id="okta-username" name="username" value="{{username}}" autocomplete="username"
         autocapitalize="none" spellcheck="false" required{{!' aria-describedby="okta-error" aria-invalid="true"' if error else ''}}>
  % end
  <button type="submit">{{"Send another push" if error else "Send a push to my phone"}}</button>
</form>
