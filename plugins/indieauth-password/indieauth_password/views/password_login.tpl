<form id="password-login" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="password-error" role="alert">{{error}}</p>
  % end
  % if sole_user:
  % # one user only: no field to fill in, but password managers still learn whose password this is
  <input type="text" id="username" name="username" value="{{username}}" autocomplete="username" hidden readonly>
  % else:
  <label for="username">User name</label>
  <input type="text" id="username" name="username" value="{{username}}" autocomplete="username"
         autocapitalize="none" spellcheck="false" required{{!' aria-describedby="password-error" aria-invalid="true"' if error else ''}}>
  % end
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required{{!' aria-describedby="password-error" aria-invalid="true"' if error else ''}}>
  <button type="submit">Sign in</button>
</form>
