<form id="passkeys-login" method="post" action="{{action}}" data-options="/login/passkeys/options"{{!'' if user else ' data-autofill'}}>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  <input type="hidden" name="credential" value="">
  <p class="error" id="passkeys-error" role="alert"{{!'' if error else ' hidden'}}>{{error or ""}}</p>
  % if user:
  <p>Use a passkey of <strong>{{user.username}}</strong>: on this device, your phone or a security key.</p>
  % else:
  <p>Use a passkey saved on this device, your phone or a security key. No user name needed.</p>
  % end
  <noscript><p class="warning" id="passkeys-noscript">Signing in with a passkey needs JavaScript, which is
  off in this browser. Turn it on, or use another way to sign in.</p></noscript>
  <div hidden><button type="submit" id="passkeys-sign-in">Sign in with a passkey</button></div>
</form>
