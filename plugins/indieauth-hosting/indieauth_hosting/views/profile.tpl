% rebase('base.tpl', title=title, links=links)
<article class="h-card profile">
  % if person.photo:
  <img class="u-photo client-logo" src="{{person.photo}}" alt="" width="64" height="64">
  % end
  <h1><a class="u-url u-uid p-name" href="{{person.me}}">{{person.name or person.username}}</a></h1>
  % if person.note:
  <p class="p-note">{{person.note}}</p>
  % end
  % if person.url:
  <p><a class="u-url" rel="me" href="{{person.url}}">{{person.url}}</a></p>
  % end
</article>
% if user and user.id == person.id:
<p><a href="/u/{{person.username}}/edit">Edit your profile</a></p>
% end
