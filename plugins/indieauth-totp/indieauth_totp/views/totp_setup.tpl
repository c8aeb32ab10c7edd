% rebase('base.tpl', title=title)
<h1>Set up an authenticator app</h1>
% if turned_off:
<p role="status">Codes from your authenticator app are turned off. You can set an app up again below.</p>
% end
<p>An authenticator app on your phone (such as Aegis, FreeOTP, 2FAS or Google Authenticator) shows a new
{{digits}}-digit code every {{period}} seconds. Once it is set up, signing in can ask for that code.</p>

<h2>1. Add this account to the app</h2>
<p>Scan this QR code with the app:</p>
<p class="totp-qr">{{!qr}}</p>
<p>Can't scan it? <a href="{{uri}}">Open the account in the app on this device</a>, or add it by hand:</p>
<dl class="facts">
  <dt>Account</dt><dd>{{issuer}} ({{account}})</dd>
  <dt>Key</dt><dd><code id="totp-key">{{key}}</code></dd>
  <dt>Kind</dt><dd>time-based, {{digits}} digits, every {{period}} seconds</dd>
</dl>
<details>
  <summary>The set-up link</summary>
  <p><code id="totp-uri">{{uri}}</code></p>
</details>

<h2>2. Enter the code the app shows</h2>
<form id="totp-confirm" method="post" action="/plugins/totp/confirm" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  % if error:
  <p class="error" id="confirm-error" role="alert">{{error}}</p>
  % end
  <label for="totp-code">{{digits}}-digit code</label>
  <input type="text" id="totp-code" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="16"
         required{{!' aria-describedby="confirm-error" aria-invalid="true"' if error else ''}}>
  <button type="submit">Turn on</button>
</form>
