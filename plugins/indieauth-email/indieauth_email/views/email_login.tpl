% describedby = ' aria-describedby="email-error" aria-invalid="true"' if error else ''
% if sent_to:
% if sending:
<p role="status" id="email-sent">A {{minutes}}-minute sign-in code is on its way to <strong>{{sent_to}}</strong>:
the mail server is taking its time. Enter the code below when it comes, or use the link in the same email.
Reload this page to see whether the mail server took it.</p>
% else:
<p role="status" id="email-sent">We sent a {{minutes}}-minute sign-in code to <strong>{{sent_to}}</strong>.
Enter it below, or use the link in the same email.</p>
% end
<form id="email-code" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  <input type="hidden" name="step" value="code">
  % if not user:
  <input type="hidden" name="username" value="{{username}}">
  % end
  % if error:
  <p class="error" id="email-error" role="alert">{{error}}</p>
  % end
  <label for="email-code-input">6-digit code from the email</label>
  <input type="text" id="email-code-input" name="code" inputmode="numeric"
         autocomplete="one-time-code" required{{!describedby}}>
  <button type="submit">Sign in</button>
</form>
<p class="muted" id="email-help">No email yet? It can take a minute or two; look in your spam or junk folder too.
If it does not come, send a new code (the old one then stops working), or
<a href="{{others}}">use another way to sign in</a>.</p>
<form id="email-resend" method="post" action="{{send_action}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if not user:
  <input type="hidden" name="username" value="{{username}}">
  % end
  <button type="submit" class="link">Send a new code</button>
</form>
% else:
<form id="email-send" method="post" action="{{send_action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="email-error" role="alert">{{error}}</p>
  % end
  % if user:
  <p>We will email a {{minutes}}-minute sign-in code and a link to
  {{!'<strong>' if to else ''}}{{to or "the address we have for you"}}{{!'</strong>' if to else ''}}.</p>
  <button type="submit">Send the code</button>
  % elif sole_user:
  <input type="text" id="email-username" name="username" value="{{username}}" autocomplete="username" hidden readonly>
  <p>We will email you a {{minutes}}-minute sign-in code and a link.</p>
  <button type="submit">Send me a code</button>
  % else:
  <label for="email-username">User name</label>
  <input type="text" id="email-username" name="username" value="{{username}}" autocomplete="username"
         autocapitalize="none" spellcheck="false" required{{!describedby}}>
  <p class="muted">We email you a {{minutes}}-minute sign-in code and a link.</p>
  <button type="submit">Send me a code</button>
  % end
</form>
% end
