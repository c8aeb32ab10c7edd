% rebase('base.tpl', title=title)
<h1>{{"Your authenticator app is set up" if just_enabled else "New recovery codes"}}</h1>
% if just_enabled:
<p role="status">Signing in can now ask for a code from your authenticator app.</p>
% else:
<p role="status">Your old recovery codes no longer work.</p>
% end
<h2>Your recovery codes</h2>
<p>If you lose your phone, each of these codes signs you in once instead of a code from the app.
<strong>Save them now</strong>, in a password manager or on paper: they are not shown again.</p>
<ol id="totp-recovery-codes">
  % for code in codes:
  <li><code>{{code}}</code></li>
  % end
</ol>
<p><a class="button" href="/plugins/totp/">I have saved them</a></p>
