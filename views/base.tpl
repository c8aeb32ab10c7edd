<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{{title + " · " if title else ""}}IndieAuth</title>
<link rel="stylesheet" href="/static/style.css">
% for href in get('stylesheets', []):
<link rel="stylesheet" href="{{href}}">
% end
% for name, content in get('meta', []):
<meta http-equiv="{{name}}" content="{{content}}">
% end
% for src in get('scripts', []):
<script src="{{src}}" defer></script>
% end
% for rel, href in get('links', []):
<link rel="{{rel}}" href="{{href}}">
% end
</head>
<body>
<header class="site">
  <a class="brand" href="/">IndieAuth</a>
  % if user:
  <nav class="site" aria-label="Account"><a href="/tokens">Tokens</a> <a href="/tickets">Tickets</a> <a href="/log">Activity</a> <a href="/docs">Developers</a> <a href="/account">Account</a>
  % for label, path in get("menu", []):
  <a href="{{path}}">{{label}}</a>
  % end
  {{!'<a href="/admin/clients">Apps</a>' if user.role in ("owner", "admin") else ''}}</nav>
  <form class="inline" method="post" action="/logout">
    <span class="who">Signed in as <strong>{{user.username}}</strong></span>
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit" class="link">Sign out</button>
  </form>
  % end
</header>
<main>
{{!base}}
</main>
</body>
</html>
