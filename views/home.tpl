% rebase('base.tpl', title=title)
% if user:
<h1>Hello, {{user.name or user.username}}</h1>
<p>You are signed in as <a href="{{user.me}}">{{user.me}}</a>.</p>
% else:
<h1>IndieAuth</h1>
<p>This server lets its users sign in to IndieWeb sites with their own domain.</p>
<p><a class="button" href="/login">Sign in</a></p>
% end
