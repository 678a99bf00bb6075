"""Django's file storage as it behaves under Apache with LANG=C (the course's lab machine).

mod_wsgi runs Python with an ASCII file system encoding there, so opening a
file whose name is not pure ASCII raises UnicodeEncodeError: a 500 error page,
and nothing is stored. Django's documentation warns of exactly this.
"""

from django.core.files.storage import FileSystemStorage


class LangCStorage(FileSystemStorage):
    def _save(self, name, content):
        # What os.open() does with an ASCII file system encoding.
        name.encode("ascii")
        return super()._save(name, content)
