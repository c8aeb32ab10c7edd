% rebase('base.tpl', title=title)
<h1>Authenticator app</h1>
<p>Signing in can ask for a code from your authenticator app{{" (on since " + since + ")" if since else ""}}.</p>

<h2>Recovery codes</h2>
<p>You have <strong id="totp-codes-left">{{left}}</strong> of {{total}} recovery codes left. Each one signs you in
once instead of a code, if you lose your phone.</p>
% if left <= 3:
<p class="warning">Few recovery codes are left: make new ones and keep them safe.</p>
% end
<form id="totp-recovery" method="post" action="/plugins/totp/recovery">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <p>New codes replace the old ones, which stop working.</p>
  <button type="submit" class="secondary">Make new recovery codes</button>
</form>

<h2>Turn off</h2>
% if required:
<p class="warning">This server asks for a code from an authenticator app every time you sign in. Once you turn
it off, set an app up again straight away, or you will not be able to sign in.</p>
% end
<form id="totp-disable" method="post" action="/plugins/totp/disable" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  % if error:
  <p class="error" id="disable-error" role="alert">{{error}}</p>
  % end
  <div class="check">
    <input type="checkbox" id="totp-confirm-off" name="confirm" value="yes" required{{!' aria-describedby="disable-error" aria-invalid="true"' if error else ''}}>
    <label for="totp-confirm-off">Yes, stop asking for codes from my authenticator app, and forget my recovery codes</label>
  </div>
  <button type="submit">Turn off</button>
</form>
