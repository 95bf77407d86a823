"""The quiz page's own words (buttons, headings, notes) in English, Russian and Kazakh.

Questions and answer labels come from the codebook; these strings are the page around them.
``{name}`` placeholders are filled by the page's script (and by the builder for the first
render). A language the codebook offers but this table lacks gets the English strings.
"""

from __future__ import annotations

__all__ = ["ENDONYMS", "UI_TEXT"]

#: How each language names itself in the language switch.
ENDONYMS = {
    "en": "English",
    "ru": "Русский",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "uz": "Oʻzbekcha",
    "tg": "Тоҷикӣ",
    "tk": "Türkmençe",
    "az": "Azərbaycanca",
    "uk": "Українська",
}

UI_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Which attitude segment are you closest to?",
        "kicker": "Attitude segment quiz",
        "language": "Language",
        "intro": (
            "Answer the {n} questions below to see which of {k} attitude segments your views "
            "are closest to. Your answers stay on this page: they are scored in your browser "
            "and sent nowhere."
        ),
        "synthetic": (
            "SYNTHETIC DATA: this quiz scores answers with a model fitted on generated "
            "respondents, not on interviews. It shows how the method works; its results say "
            "nothing about real people."
        ),
        "question_n": "Question {i} of {n}",
        "skip": "Prefer not to say",
        "submit": "Show my segment",
        "clear": "Clear answers",
        "result": "Your result",
        "closest": "Your views are closest to",
        "probability": "Probability {p}",
        "runner_up": "Runner-up: {name}, probability {p}",
        "low": "Your answers fit no segment well: the closest segment's probability is below 50%.",
        "used": "Based on {used} of {n} answers.",
        "used_note": "Skipped questions, and answers that nobody in the survey gave, do not count.",
        "none_answered": (
            "You answered no question, so these are just the segments' shares of the survey."
        ),
        "share": "{name}: about {p} of the survey's respondents (weighted).",
        "profile": "Profile",
        "from_typology": (
            "Profile of the reference segment {reference} in the typology “{typology}”, in the "
            "study's own words. This segment matched it when the model was fitted (match score "
            "{score}). It describes the segment as a whole, not you personally."
        ),
        "from_profiles": (
            "Profile computed from the survey's answers when this quiz was built ({file}). It "
            "describes the segment as a whole, not you personally."
        ),
        "no_profile": (
            "This segment did not clearly match a segment of the reference typology, so there "
            "is no profile card for it here."
        ),
        "english_note": "Segment names and profiles are in English, as in the reference study.",
        "all": "Probability of each segment",
        "change": "Change my answers",
        "again": "Start again",
        "about": "About this quiz",
        "about_tool": (
            "These {n} questions are a typing tool's “golden questions”: with them, {acc} of "
            "the survey's respondents get the same segment as with all {items} questions of the "
            "full model (cross-validated)."
        ),
        "about_scoring": (
            "Your answers are scored with the model's own parameters: the probability of each "
            "segment given your answers, counting only the questions you answered."
        ),
        "made_with": "Built with segment {version} from {file} (model checksum {checksum}).",
    },
    "ru": {
        "title": "К какому сегменту по взглядам вы ближе всего?",
        "kicker": "Тест на сегмент по взглядам",
        "language": "Язык",
        "intro": (
            "Ответьте на вопросы ниже (их {n}), чтобы узнать, к какому из {k} сегментов ваши "
            "взгляды ближе всего. Ответы остаются на этой странице: расчёт идёт в вашем "
            "браузере, и ничего никуда не отправляется."
        ),
        "synthetic": (
            "СИНТЕТИЧЕСКИЕ ДАННЫЕ: этот тест использует модель, оценённую на сгенерированных, а "
            "не опрошенных респондентах. Он показывает, как работает метод; его результаты "
            "ничего не говорят о реальных людях."
        ),
        "question_n": "Вопрос {i} из {n}",
        "skip": "Предпочитаю не отвечать",
        "submit": "Показать мой сегмент",
        "clear": "Очистить ответы",
        "result": "Ваш результат",
        "closest": "Ваши взгляды ближе всего к сегменту",
        "probability": "Вероятность {p}",
        "runner_up": "Второй по вероятности: {name}, {p}",
        "low": "Ваши ответы плохо подходят ко всем сегментам: вероятность ближайшего ниже 50%.",
        "used": "Учтено ответов: {used} из {n}.",
        "used_note": (
            "Пропущенные вопросы и ответы, которых никто в опросе не давал, не учитываются."
        ),
        "none_answered": (
            "Вы не ответили ни на один вопрос, поэтому показаны просто доли сегментов в опросе."
        ),
        "share": "{name}: около {p} респондентов опроса (с учётом весов).",
        "profile": "Профиль",
        "from_typology": (
            "Профиль эталонного сегмента {reference} из типологии «{typology}», словами самого "
            "исследования. Этот сегмент совпал с ним при оценке модели (оценка совпадения "
            "{score}). Профиль описывает сегмент в целом, а не лично вас."
        ),
        "from_profiles": (
            "Профиль рассчитан по ответам опроса при создании теста ({file}). Он описывает "
            "сегмент в целом, а не лично вас."
        ),
        "no_profile": (
            "Этот сегмент не совпал явно ни с одним сегментом эталонной типологии, поэтому "
            "профиля для него здесь нет."
        ),
        "english_note": (
            "Названия и профили сегментов даны на английском, как в исходном исследовании."
        ),
        "all": "Вероятность каждого сегмента",
        "change": "Изменить ответы",
        "again": "Начать заново",
        "about": "Об этом тесте",
        "about_tool": (
            "Вопросы этого теста ({n}) — «золотые вопросы» инструмента типизации: по ним {acc} "
            "респондентов опроса попадают в тот же сегмент, что и по всем {items} вопросам "
            "полной модели (перекрёстная проверка)."
        ),
        "about_scoring": (
            "Ответы оцениваются по параметрам самой модели: вероятность каждого сегмента при "
            "ваших ответах, с учётом только тех вопросов, на которые вы ответили."
        ),
        "made_with": (
            "Создано программой segment {version} из файла {file} (контрольная сумма модели "
            "{checksum})."
        ),
    },
    "kk": {
        "title": "Көзқарасыңыз қай сегментке ең жақын?",
        "kicker": "Көзқарас сегменті бойынша тест",
        "language": "Тіл",
        "intro": (
            "Төмендегі {n} сұраққа жауап беріңіз: көзқарасыңыздың {k} сегменттің қайсысына ең "
            "жақын екенін көресіз. Жауаптарыңыз осы бетте қалады: олар браузеріңізде "
            "есептеледі және ешқайда жіберілмейді."
        ),
        "synthetic": (
            "СИНТЕТИКАЛЫҚ ДЕРЕКТЕР: бұл тест сұхбат деректерімен емес, жасанды респонденттермен "
            "бағаланған модельді қолданады. Ол әдістің қалай жұмыс істейтінін көрсетеді; "
            "нәтижелері нақты адамдар туралы ештеңе айтпайды."
        ),
        "question_n": "Сұрақ {i} / {n}",
        "skip": "Жауап бергім келмейді",
        "submit": "Сегментімді көрсету",
        "clear": "Жауаптарды тазарту",
        "result": "Сіздің нәтижеңіз",
        "closest": "Көзқарасыңыз ең жақын сегмент:",
        "probability": "Ықтималдығы {p}",
        "runner_up": "Екінші орында: {name}, ықтималдығы {p}",
        "low": (
            "Жауаптарыңыз ешбір сегментке жақсы сәйкес келмейді: ең жақын сегменттің "
            "ықтималдығы 50%-дан төмен."
        ),
        "used": "Есепке алынған жауаптар: {used} / {n}.",
        "used_note": (
            "Өткізіп жіберілген сұрақтар мен сауалнамада ешкім бермеген жауаптар есепке алынбайды."
        ),
        "none_answered": (
            "Сіз бірде-бір сұраққа жауап бермедіңіз, сондықтан сегменттердің сауалнамадағы "
            "үлестері ғана көрсетілген."
        ),
        "share": "{name}: сауалнама респонденттерінің шамамен {p} (салмақтарды ескергенде).",
        "profile": "Профиль",
        "from_typology": (
            "«{typology}» типологиясындағы {reference} эталондық сегментінің профилі, "
            "зерттеудің өз сөздерімен. Модель бағаланған кезде бұл сегмент соған сәйкес келді "
            "(сәйкестік көрсеткіші {score}). Профиль сізді жеке емес, сегментті тұтас "
            "сипаттайды."
        ),
        "from_profiles": (
            "Профиль осы тест жасалған кезде сауалнама жауаптары бойынша есептелді ({file}). "
            "Ол сізді жеке емес, сегментті тұтас сипаттайды."
        ),
        "no_profile": (
            "Бұл сегмент эталондық типологияның ешбір сегментіне анық сәйкес келмеді, "
            "сондықтан оның профилі мұнда жоқ."
        ),
        "english_note": (
            "Сегменттердің атаулары мен профильдері бастапқы зерттеудегідей ағылшын тілінде."
        ),
        "all": "Әр сегменттің ықтималдығы",
        "change": "Жауаптарды өзгерту",
        "again": "Қайта бастау",
        "about": "Бұл тест туралы",
        "about_tool": (
            "Бұл {n} сұрақ — типтеу құралының «алтын сұрақтары»: олар бойынша сауалнама "
            "респонденттерінің {acc} толық модельдің барлық {items} сұрағы бойынша алатын "
            "сегментіне түседі (кросс-валидация)."
        ),
        "about_scoring": (
            "Жауаптарыңыз модельдің өз параметрлерімен бағаланады: тек жауап берген "
            "сұрақтарыңызды ескере отырып, әр сегменттің ықтималдығы есептеледі."
        ),
        "made_with": (
            "segment {version} бағдарламасымен {file} файлынан жасалған (модельдің бақылау "
            "сомасы {checksum})."
        ),
    },
}
