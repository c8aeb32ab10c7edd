<form id="totp-login" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="totp-error" role="alert">{{error}}</p>
  % end
  % invalid = ' aria-invalid="true"' if error else ''
  % if user:
  <p>Enter the code your authenticator app shows for <strong>{{user.username}}</strong>.</p>
  % elif sole_user:
  <input type="text" id="totp-username" name="username" value="{{username}}" autocomplete="username" hidden readonly>
  % else:
  <label for="totp-username">User name</label>
  <input type="text" id="totp-username" name="username" value="{{username}}" autocomplete="username"
         autocapitalize="none" spellcheck="false" required{{!' aria-describedby="totp-error"' if error else ''}}{{!invalid}}>
  % end
  <label for="totp-code">{{digits}}-digit code</label>
  <input type="text" id="totp-code" name="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false"
         maxlength="64" required aria-describedby="{{'totp-error ' if error else ''}}totp-hint"{{!invalid}}>
  <p class="muted" id="totp-hint">Lost your phone? Enter one of your recovery codes instead.</p>
  <button type="submit">Sign in</button>
</form>
