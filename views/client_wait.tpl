% rebase('base.tpl', title=title, meta=meta)
<h1>Reading the app's details</h1>
<p role="status">This server is reading what <strong>{{host}}</strong> publishes about the app that asked
  you to sign in: its name, its logo and where it may send you back. It takes a few seconds at most, and
  this page moves on by itself.</p>
<p><a href="{{here}}">Check now</a></p>
