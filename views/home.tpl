% rebase('base.tpl', title=title, links=links)
% if owner:
<div class="h-card profile">
  <p class="muted">Profile of</p>
  <h1><a class="u-url u-uid p-name" href="{{owner.me}}">{{owner.name or owner.me}}</a></h1>
</div>
% end
% if user:
% heading = "h2" if owner else "h1"  # a page's first heading is its h1, for screen reader users
<{{heading}}>Hello, {{user.name or user.username}}</{{heading}}>
<p>You are signed in as <a href="{{user.me}}">{{user.me}}</a>.</p>
% if user.me != base_url:
<p>To sign in to IndieWeb sites as <strong>{{user.me}}</strong>, that page must name this server. Put
these lines in its <code>&lt;head&gt;</code>:</p>
<pre class="snippet"><code>{{"\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)}}</code></pre>
% end
<p><a href="/selftest">Check that this server's host passes tokens on</a></p>
% if manage:
<h2>Your sign-in methods</h2>
<ul>
% for auth in manage:
  <li><a href="{{auth.settings_url}}">{{auth.label}}</a></li>
% end
</ul>
% end
% elif not owner:
<h1>IndieAuth</h1>
<p>This server lets its users sign in to IndieWeb sites with their own domain.</p>
<p><a class="button" href="/login">Sign in</a></p>
% else:
<p><a href="/login">Sign in</a></p>
% end
