% rebase('base.tpl', title=title)
% if user:
<h1>Hello, {{user.name or user.username}}</h1>
<p>You are signed in as <a href="{{user.me}}">{{user.me}}</a>.</p>
% if manage:
<h2>Your sign-in methods</h2>
<ul>
% for auth in manage:
  <li><a href="{{auth.settings_url}}">{{auth.label}}</a></li>
% end
</ul>
% end
% else:
<h1>IndieAuth</h1>
<p>This server lets its users sign in to IndieWeb sites with their own domain.</p>
<p><a class="button" href="/login">Sign in</a></p>
% end
