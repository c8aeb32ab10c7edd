% rebase('base.tpl', title=title)
<h1>Your account</h1>
<p>Signed in as <a href="{{person.me}}">{{person.me}}</a>. What you write here is given to apps you allow to see
your profile, and your email is where sign-in codes go.</p>
% if saved:
<p role="status">Saved.</p>
% end
% include('profile_form.tpl', action="/account", values=values, error=error)
