% rebase('base.tpl', title=title)
<h1>Sign in with the link from your email</h1>
% if error:
<p class="error" id="email-link-error" role="alert">{{error}}</p>
% end
% if not show_form:
<p><a href="/login">Go to the sign-in page</a> to send yourself a new code.</p>
% end
% if who and not error:
<p>Press the button to sign in as <strong>{{who.me}}</strong>. The link works once.</p>
% end
% if show_form:
<form id="email-link" method="post" action="/login/email/link">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="user" value="{{username}}">
  <input type="hidden" name="token" value="{{token}}">
  <button type="submit">Sign in</button>
</form>
% end
